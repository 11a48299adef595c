#pragma once
// How many agent requests (/v1/...) arrived over the last minute: what the console names before it stops the
// proxy ("agents sent 37 requests in the last minute"). One lock-free per-second ring, so counting stays off the
// request path's locks.
#include "breaker/RefusalCounter.h"
#include "core/Clock.h"

#include <cstdint>

namespace fusebox {

class AgentActivity {
public:
    static constexpr int kSeconds = 60;
    explicit AgentActivity(Clock& clock) : m_clock(clock), m_perSecond(kSeconds) {}
    void requestArrived();
    uint64_t lastMinute() const;

private:
    Clock& m_clock;
    RefusalCounter m_perSecond; // a per-second counter; the breaker's refusal ring does exactly this
};

} // namespace fusebox
