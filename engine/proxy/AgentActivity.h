#pragma once
// How many agent requests (/v1/...) are being answered and how many arrived over the last minute: what the console
// names before it stops the proxy ("2 requests in flight, 37 requests in the last minute"). Atomics and one
// lock-free per-second ring, so counting stays off the request path's locks.
#include "breaker/RefusalCounter.h"
#include "core/Clock.h"

#include <atomic>
#include <cstdint>

namespace fusebox {

class AgentActivity {
public:
    static constexpr int kSeconds = 60;
    explicit AgentActivity(Clock& clock) : m_clock(clock), m_perSecond(kSeconds) {}
    void requestStarted();
    void requestFinished() { m_inFlight.fetch_sub(1, std::memory_order_relaxed); }
    int64_t inFlight() const { return m_inFlight.load(std::memory_order_relaxed); }
    uint64_t lastMinute() const;

private:
    Clock& m_clock;
    RefusalCounter m_perSecond; // a per-second counter; the breaker's refusal ring does exactly this
    std::atomic<int64_t> m_inFlight{0};
};

} // namespace fusebox
