#include "core/Clock.h"

namespace fusebox {

SystemClock& SystemClock::instance() {
    static SystemClock clock;
    return clock;
}

// The manual steady clock starts well past zero so that "now - some period" never underflows in tests.
namespace {
constexpr int64_t kManualSteadyStartNs = 1'000'000'000'000; // 1000 s
}

ManualClock::ManualClock(WallTime wallStart) : m_wallStart(wallStart) {}

SteadyTime ManualClock::now() const {
    return fromNanos(kManualSteadyStartNs + m_offsetNs.load(std::memory_order_acquire));
}

WallTime ManualClock::wallNow() const {
    return m_wallStart +
           std::chrono::duration_cast<WallTime::duration>(Nanos{m_offsetNs.load(std::memory_order_acquire)});
}

void ManualClock::advance(Nanos by) { m_offsetNs.fetch_add(by.count(), std::memory_order_acq_rel); }

void ManualClock::setWall(WallTime wall) { advance(std::chrono::duration_cast<Nanos>(wall - wallNow())); }

} // namespace fusebox
