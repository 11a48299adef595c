#include "proxy/AgentActivity.h"

#include "breaker/SlidingWindow.h"

namespace fusebox {

void AgentActivity::requestStarted() {
    m_inFlight.fetch_add(1, std::memory_order_relaxed);
    m_perSecond.record(steadySecond(m_clock.now()));
}

uint64_t AgentActivity::lastMinute() const {
    const int64_t now = steadySecond(m_clock.now());
    uint64_t total = 0;
    for (int64_t second = now - kSeconds + 1; second <= now; ++second) total += m_perSecond.countAt(second);
    return total;
}

} // namespace fusebox
