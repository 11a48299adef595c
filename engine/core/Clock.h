#pragma once
// Time is injected everywhere it decides something (breaker, window, backoff, retention), so tests can drive it
// with a ManualClock instead of sleeping. Nothing in breaker or window code reads the system clock itself.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace fusebox {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;
using Nanos = std::chrono::nanoseconds;

class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic time: durations, open periods, window buckets.
    virtual SteadyTime now() const = 0;
    // Calendar time: timestamps shown to people, HTTP dates, the UTC day of a budget.
    virtual WallTime wallNow() const = 0;
};

class SystemClock final : public Clock {
public:
    SteadyTime now() const override { return std::chrono::steady_clock::now(); }
    WallTime wallNow() const override { return std::chrono::system_clock::now(); }
    static SystemClock& instance();
};

// A clock that moves only when told to; both of its faces move together. Safe to read from many threads.
class ManualClock final : public Clock {
public:
    explicit ManualClock(WallTime wallStart = WallTime{std::chrono::seconds{1'767'225'600}}); // 2026-01-01 UTC
    SteadyTime now() const override;
    WallTime wallNow() const override;
    void advance(Nanos by);
    void setWall(WallTime wall); // moves both faces forward (or back) by the same amount

private:
    std::atomic<int64_t> m_offsetNs{0};
    WallTime m_wallStart;
};

inline int64_t toNanos(SteadyTime t) {
    return std::chrono::duration_cast<Nanos>(t.time_since_epoch()).count();
}
inline SteadyTime fromNanos(int64_t ns) { return SteadyTime{Nanos{ns}}; }
inline double toUnixSeconds(WallTime t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

} // namespace fusebox
