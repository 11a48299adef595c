#pragma once
// How much memory the request bodies in flight may hold together. A body's parsed JSON costs far more than its
// bytes (a 30 MB array of small numbers is ~300 MB of DOM), so each request reserves its estimate before it is
// parsed, and a request that would pass the budget gets a 503 at once instead of taking the process down with
// the others. Lock-free: one atomic add per request.
#include <atomic>
#include <cstdint>
#include <optional>

namespace fusebox {

class RequestMemoryBudget {
public:
    explicit RequestMemoryBudget(int64_t limitBytes) : m_limit(limitBytes) {}

    // Returns the memory while alive.
    class Reservation {
    public:
        Reservation() = default;
        Reservation(RequestMemoryBudget* budget, int64_t bytes) : m_budget(budget), m_bytes(bytes) {}
        Reservation(Reservation&& other) noexcept { *this = std::move(other); }
        Reservation& operator=(Reservation&& other) noexcept {
            release();
            m_budget = other.m_budget;
            m_bytes = other.m_bytes;
            other.m_budget = nullptr;
            return *this;
        }
        ~Reservation() { release(); }

    private:
        void release() {
            if (m_budget) m_budget->m_used.fetch_sub(m_bytes, std::memory_order_relaxed);
            m_budget = nullptr;
        }
        RequestMemoryBudget* m_budget = nullptr;
        int64_t m_bytes = 0;
    };

    // std::nullopt when `bytes` more would pass the limit. A request alone larger than the whole budget is still
    // admitted when nothing else is in flight, so a limit set too low refuses concurrency, never every request.
    std::optional<Reservation> reserve(int64_t bytes) {
        const int64_t before = m_used.fetch_add(bytes, std::memory_order_relaxed);
        if (before > 0 && before + bytes > m_limit) {
            m_used.fetch_sub(bytes, std::memory_order_relaxed);
            return std::nullopt;
        }
        return Reservation(this, bytes);
    }

    int64_t used() const { return m_used.load(std::memory_order_relaxed); }
    int64_t limit() const { return m_limit; }

private:
    int64_t m_limit;
    std::atomic<int64_t> m_used{0};
};

} // namespace fusebox
