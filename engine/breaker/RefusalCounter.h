#pragma once
// Counts short-circuited calls per second without a lock, so a refusal stays a few atomics (the open breaker's
// whole point is to answer fast). Each slot packs (second << 24 | count) in one word, so a slot rolls over to a
// new second and counts in the same compare-and-swap, and no count is ever lost or counted twice.
#include <atomic>
#include <cstdint>
#include <memory>

namespace fusebox {

class RefusalCounter {
public:
    explicit RefusalCounter(int seconds);
    void record(int64_t second);
    // Refusals in the given second, if the ring still holds it.
    uint32_t countAt(int64_t second) const;
    uint64_t total() const { return m_total.load(std::memory_order_relaxed); }
    // Forgets the per-second counts (an operator's reset clears the window); the total since start stays.
    // A refusal racing with it lands in a cleared slot (its CAS fails and retries), so it is counted, not lost.
    void clear();

private:
    static constexpr int kCountBits = 24;
    static constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
    int m_size;
    std::unique_ptr<std::atomic<uint64_t>[]> m_slots;
    std::atomic<uint64_t> m_total{0};
};

} // namespace fusebox
