#pragma once
// The sliding time window of one breaker: a ring of per-second buckets plus running totals, subtract-on-evict
// (resilience4j's SlidingTimeWindowMetrics). Recording and reading the totals are O(1) amortized.
// Not thread-safe: its breaker guards it.
#include "breaker/Outcome.h"
#include "core/Clock.h"

#include <array>
#include <cstdint>
#include <vector>

namespace fusebox {

struct WindowCounts {
    std::array<uint32_t, kOutcomeCount> outcomes{}; // by outcome class
    uint32_t calls = 0;    // completed attempts that count: every class but cancelled and short_circuited
    uint32_t failures = 0; // calls whose class is in the policy's failure_outcomes
    uint32_t slow = 0;     // successes slower than slow_call_ms to first byte

    uint32_t count(Outcome o) const { return outcomes[static_cast<std::size_t>(o)]; }
    void add(const WindowCounts& other);
    void subtract(const WindowCounts& other);
};

struct WindowBucket {
    int64_t second = 0; // whole seconds of the steady clock
    WindowCounts counts;
};

class SlidingWindow {
public:
    explicit SlidingWindow(int seconds);

    int seconds() const { return static_cast<int>(m_ring.size()); }
    void record(SteadyTime now, Outcome outcome, bool failure, bool slow);
    // Totals over the last `seconds()` seconds, `now`'s second included.
    const WindowCounts& totals(SteadyTime now);
    // The non-empty buckets inside the window, oldest first.
    std::vector<WindowBucket> buckets(SteadyTime now);
    void clear();

    static bool countsAsCall(Outcome o) { return o != Outcome::Cancelled && o != Outcome::ShortCircuited; }

private:
    // Moves the ring to `now`'s second. Within the head's second (nearly every call) it is one comparison:
    // no division to find the second, no modulo to find the bucket.
    void advanceTo(SteadyTime now);
    void advance(int64_t second);

    std::vector<WindowBucket> m_ring;
    WindowCounts m_totals;
    int64_t m_head = INT64_MIN;       // newest second the ring covers
    std::size_t m_headIndex = 0;      // its bucket
    SteadyTime m_headEnds = SteadyTime::min(); // the start of the second after m_head
};

int64_t steadySecond(SteadyTime t);

} // namespace fusebox
