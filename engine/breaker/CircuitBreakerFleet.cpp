// CircuitBreaker's fleet seam: how engine/fleet's sync reads this breaker and applies the fleet's verdicts.
// Kept apart from CircuitBreaker.cpp so the state machine reads as it did; nothing here runs per request.
#include "breaker/CircuitBreaker.h"

#include <algorithm>

namespace fusebox {

using namespace breakerword;

void CircuitBreaker::enableFleet() {
    std::lock_guard lock(m_mutex);
    m_fleetEnabled = true;
}

const WindowCounts& CircuitBreaker::fleetTotalsLocked(SteadyTime now) {
    m_fleetTotals = m_window.totals(now);
    m_fleetTotals.add(m_fleetOthers);
    return m_fleetTotals;
}

void CircuitBreaker::applyFleetVerdict(const FleetVerdict& v) {
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    const BreakerState from = stateOf(m_word.load(std::memory_order_acquire));
    std::string reason = v.reason + " [replica " + v.origin + "]";
    if (v.clearWindow) {
        m_window.clear();
        m_consecutiveFailures = 0;
        m_backoffLevel = 0;
        m_opensSinceClosed = 0;
    }
    // Whatever the fleet decided, its window starts again from what the replicas push next.
    if (v.state == BreakerState::Closed) m_fleetOthers = {};
    if (v.state == BreakerState::Open) m_backoffLevel = v.opens; // backoff grows with the fleet's re-opens
    const bool same = from == v.state;
    if (same) {
        // No transition (and no event): the fleet agrees; its period, reason and origin are adopted.
        if (v.state == BreakerState::Open)
            m_openUntilNs.store(toNanos(now + v.remaining), std::memory_order_release);
        m_reason = std::move(reason);
        m_origin = v.origin;
        m_byOperator = false;
        return;
    }
    switch (v.state) {
    case BreakerState::Open: transitionLocked(BreakerState::Open, std::move(reason), now + v.remaining, v.origin); break;
    case BreakerState::Closed:
    case BreakerState::ForcedOpen:
    case BreakerState::ForcedClosed: transitionLocked(v.state, std::move(reason), std::nullopt, v.origin); break;
    case BreakerState::HalfOpen: break; // never shared: each replica's own open period ends into it
    }
}

LocalBreakerView CircuitBreaker::localView() const {
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    const uint64_t word = m_word.load(std::memory_order_acquire);
    LocalBreakerView v;
    v.state = stateOf(word);
    if (v.state == BreakerState::Open) {
        const int64_t left = m_openUntilNs.load(std::memory_order_acquire) - toNanos(now);
        v.remaining = std::chrono::ceil<Millis>(Nanos{std::max<int64_t>(0, left)});
    }
    v.opens = m_backoffLevel;
    v.reason = m_reason;
    v.origin = m_origin;
    v.byOperator = m_byOperator;
    v.probesInFlight = v.state == BreakerState::HalfOpen ? probesOf(word) : 0;
    return v;
}

WindowCounts CircuitBreaker::localWindowCounts() const {
    const SteadyTime now = m_clock.now();
    std::lock_guard lock(m_mutex);
    return m_window.totals(now);
}

void CircuitBreaker::setFleetCounts(const WindowCounts& others) {
    std::lock_guard lock(m_mutex);
    m_fleetOthers = others;
}

void CircuitBreaker::setFleetProbeGate(bool on) {
    m_fleetProbeGrant.store(0, std::memory_order_release);
    m_fleetProbeGate.store(on, std::memory_order_release);
}

std::optional<uint64_t> CircuitBreaker::awaitingFleetProbe() const {
    const uint64_t word = m_word.load(std::memory_order_acquire);
    if (stateOf(word) != BreakerState::HalfOpen || fleetProbeAllowed(word)) return std::nullopt;
    return generationOf(word);
}

bool CircuitBreaker::grantFleetProbe(uint64_t generation) {
    const uint64_t word = m_word.load(std::memory_order_acquire);
    if (stateOf(word) != BreakerState::HalfOpen || generationOf(word) != generation) return false;
    m_fleetProbeGrant.store(generation, std::memory_order_release);
    return true;
}

bool CircuitBreaker::holdsFleetProbe(uint64_t generation) const {
    const uint64_t word = m_word.load(std::memory_order_acquire);
    return stateOf(word) == BreakerState::HalfOpen && generationOf(word) == generation &&
           m_fleetProbeGrant.load(std::memory_order_acquire) == generation;
}

void CircuitBreaker::revokeFleetProbe() { m_fleetProbeGrant.store(0, std::memory_order_release); }

} // namespace fusebox
