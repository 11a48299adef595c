#include "breaker/CircuitBreaker.h"

#include "breaker/BreakerReasons.h"
#include "breaker/BreakerWord.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace fusebox {

namespace {

using namespace breakerword;

// While half-open with every probe slot taken there is no scheduled time to give; one second is a polite
// "soon" that keeps waiting clients from spinning.
constexpr Millis kHalfOpenBusyRetry{1000};

Nanos secondsToNanos(double s) { return std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(s)); }

} // namespace

// ---- Permit ----------------------------------------------------------------------------------------------

Permit& Permit::operator=(Permit&& other) noexcept {
    if (this != &other) {
        release();
        m_breaker = std::exchange(other.m_breaker, nullptr);
        m_generation = other.m_generation;
        m_probe = other.m_probe;
    }
    return *this;
}

void Permit::release() {
    if (m_breaker) m_breaker->releasePermit(*this);
}

// ---- CircuitBreaker ---------------------------------------------------------------------------------------

CircuitBreaker::CircuitBreaker(std::string provider, BreakerPolicy policy, Clock& clock, Random& random,
                               EventBus* events)
    : m_provider(std::move(provider)), m_policy(std::move(policy)), m_clock(clock), m_random(random),
      m_events(events), m_word(pack(BreakerState::Closed, 1)), m_refusals(m_policy.windowS),
      m_window(m_policy.windowS), m_since(clock.wallNow()) {}

Admission CircuitBreaker::tryAcquire() {
    // The closed path reads no clock: admitting needs only the state word (a clock read was a fifth of it).
    for (;;) {
        uint64_t word = m_word.load(std::memory_order_acquire);
        switch (stateOf(word)) {
        case BreakerState::Closed:
        case BreakerState::ForcedClosed:
            return {admit(generationOf(word), false), {}};
        case BreakerState::ForcedOpen:
            return {{}, refuse(BreakerState::ForcedOpen, secondsToNanos(m_policy.openS), m_clock.now())};
        case BreakerState::Open: {
            const SteadyTime now = m_clock.now();
            const int64_t until = m_openUntilNs.load(std::memory_order_acquire);
            if (toNanos(now) < until) return {{}, refuse(BreakerState::Open, Nanos{until - toNanos(now)}, now)};
            beginHalfOpen(word, now);
            continue;
        }
        case BreakerState::HalfOpen:
            // In a fleet the probe is the lease holder's: until the sync has taken the lease for this replica,
            // half-open refuses like a busy one (CircuitBreakerFleet.cpp). An atomic load off the closed path.
            if (probesOf(word) >= m_policy.halfOpenProbes || !fleetProbeAllowed(word))
                return {{}, refuse(BreakerState::HalfOpen, kHalfOpenBusyRetry, m_clock.now())};
            // The same CAS that claims the slot proves the state and generation have not moved.
            if (m_word.compare_exchange_weak(word, word + kProbeUnit, std::memory_order_acq_rel))
                return {admit(generationOf(word), true), {}};
            continue;
        }
    }
}

Permit CircuitBreaker::admit(uint64_t generation, bool probe) {
    m_inFlight.fetch_add(1, std::memory_order_relaxed);
    Permit permit;
    permit.m_breaker = this;
    permit.m_generation = generation;
    permit.m_probe = probe;
    return permit;
}

Refusal CircuitBreaker::refuse(BreakerState state, Nanos retryAfter, SteadyTime now) {
    m_refusals.record(steadySecond(now));
    return {state, std::chrono::ceil<Millis>(retryAfter)};
}

void CircuitBreaker::beginHalfOpen(uint64_t seenWord, SteadyTime now) {
    std::lock_guard lock(m_mutex);
    // NOTE: many callers can see the open period end at once; only the first one in here (word unchanged and
    // the period really over) moves the breaker, the others find the new word and retry their admission.
    if (m_word.load(std::memory_order_acquire) != seenWord) return;
    if (toNanos(now) < m_openUntilNs.load(std::memory_order_acquire)) return;
    transitionLocked(BreakerState::HalfOpen, reasons::halfOpen(m_policy.halfOpenProbes));
}

void CircuitBreaker::complete(Permit& permit, const CallResult& result) {
    if (permit.m_breaker != this) return;
    permit.m_breaker = nullptr;
    m_inFlight.fetch_sub(1, std::memory_order_relaxed);

    const SteadyTime now = m_clock.now();
    const bool failure = m_policy.failureOutcomes.contains(result.outcome);
    const bool slow = result.outcome == Outcome::Success &&
                      result.timeToFirstByte > Millis{m_policy.slowCallMs};

    std::lock_guard lock(m_mutex);
    const uint64_t word = m_word.load(std::memory_order_acquire);
    if (generationOf(word) != permit.m_generation) {
        ++m_staleCompletions;
        return;
    }
    m_window.record(now, result.outcome, failure, slow);
    switch (stateOf(word)) {
    case BreakerState::Closed: onClosedCompletionLocked(result, failure, now); break;
    case BreakerState::HalfOpen: onProbeCompletionLocked(result, failure, now); break;
    case BreakerState::ForcedClosed:
        // Admits everything and still records, so the operator sees what releasing it would do.
        if (SlidingWindow::countsAsCall(result.outcome)) m_consecutiveFailures = failure ? m_consecutiveFailures + 1 : 0;
        break;
    case BreakerState::Open:
    case BreakerState::ForcedOpen:
        break; // unreachable: no permit of the current generation exists in a refusing state
    }
}

void CircuitBreaker::onClosedCompletionLocked(const CallResult& result, bool failure, SteadyTime now) {
    if (!SlidingWindow::countsAsCall(result.outcome)) return;
    m_consecutiveFailures = failure ? m_consecutiveFailures + 1 : 0;
    if (result.outcome == Outcome::RateLimited) {
        openForRateLimitLocked(result.retryAfter, now);
        return;
    }
    if (failure && m_policy.consecutiveFailures > 0 && m_consecutiveFailures >= m_policy.consecutiveFailures) {
        openLocked(reasons::consecutive(m_consecutiveFailures, result.outcome), now);
        return;
    }
    const WindowCounts& totals = m_fleetEnabled ? fleetTotalsLocked(now) : m_window.totals(now);
    if (totals.calls == 0 || static_cast<int>(totals.calls) < m_policy.minCalls) return;
    // The epsilon keeps 3 of 10 at a 0.3 threshold from missing by a rounding error.
    const auto atLeast = [](uint32_t part, uint32_t whole, double rate) {
        return rate > 0 && static_cast<double>(part) / whole + 1e-9 >= rate;
    };
    if (failure && atLeast(totals.failures, totals.calls, m_policy.failureRate))
        openLocked(reasons::failureRate(totals.failures, totals.calls, m_policy.failureRate, m_policy.windowS), now);
    else if (atLeast(totals.slow, totals.calls, m_policy.slowCallRate))
        openLocked(reasons::slowRate(totals.slow, totals.calls, m_policy.slowCallRate, m_policy.windowS,
                                     m_policy.slowCallMs),
                   now);
}

void CircuitBreaker::onProbeCompletionLocked(const CallResult& result, bool failure, SteadyTime now) {
    const uint64_t word = m_word.load(std::memory_order_acquire);
    releaseProbeSlot(generationOf(word));
    if (result.outcome == Outcome::Cancelled) return; // proves nothing either way
    if (result.outcome == Outcome::RateLimited) {
        openForRateLimitLocked(result.retryAfter, now);
        return;
    }
    if (failure) {
        openLocked(reasons::probeFailed(result.outcome), now);
        return;
    }
    // Any answer that is not a failure (a 400 included) shows the provider is serving again.
    if (++m_probeSuccesses >= m_policy.closeAfter)
        transitionLocked(BreakerState::Closed, reasons::closed(m_probeSuccesses, m_policy.closeAfter));
}

void CircuitBreaker::openLocked(const std::string& why, SteadyTime now) {
    ++m_backoffLevel;
    // Envoy's ejection time: min(base × growth, max), then spread by jitter so a fleet's probes do not align.
    double period = std::min(m_policy.openS * std::pow(m_policy.backoff, m_backoffLevel - 1), m_policy.maxOpenS);
    if (m_policy.jitter > 0) period *= 1.0 + m_policy.jitter * m_random.uniform(-1.0, 1.0);
    period = std::clamp(period, 0.0, m_policy.maxOpenS);
    transitionLocked(BreakerState::Open, reasons::opened(why, period), now + secondsToNanos(period));
}

void CircuitBreaker::openForRateLimitLocked(std::optional<Millis> retryAfter, SteadyTime now) {
    // The provider said how long; no backoff growth and no jitter, only the cap.
    const double asked = retryAfter ? std::chrono::duration<double>(*retryAfter).count() : m_policy.rateLimitOpenS;
    const double period = std::clamp(asked, 0.0, m_policy.maxOpenS);
    transitionLocked(BreakerState::Open, reasons::rateLimited(retryAfter.has_value(), asked, period),
                     now + secondsToNanos(period));
}

void CircuitBreaker::transitionLocked(BreakerState to, std::string reason, std::optional<SteadyTime> openUntil,
                                      std::string origin) {
    const uint64_t word = m_word.load(std::memory_order_acquire);
    const BreakerState from = stateOf(word);
    // openUntil is stored before the word, so whoever sees the new state also sees its period.
    if (openUntil) m_openUntilNs.store(toNanos(*openUntil), std::memory_order_release);
    m_word.store(pack(to, generationOf(word) + 1), std::memory_order_release);

    if (to == BreakerState::Open) ++m_opensSinceClosed;
    if (to == BreakerState::Closed) {
        m_window.clear();
        m_consecutiveFailures = 0;
        m_backoffLevel = 0;
        m_opensSinceClosed = 0;
    }
    m_probeSuccesses = 0;
    m_origin = std::move(origin);
    m_byOperator = false;
    m_reason = std::move(reason);
    m_since = m_clock.wallNow();
    ++m_transitionsTo[static_cast<std::size_t>(to)];

    if (m_events) {
        Event event;
        event.type = EventType::Breaker;
        event.at = m_since;
        event.provider = m_provider;
        event.from = std::string(breakerStateName(from));
        event.to = std::string(breakerStateName(to));
        event.reason = m_reason;
        event.replica = m_origin; // empty: this replica (the bus fills it in)
        event.fromFleet = !m_origin.empty();
        m_events->publish(std::move(event));
    }
}

void CircuitBreaker::releasePermit(Permit& permit) {
    permit.m_breaker = nullptr;
    m_inFlight.fetch_sub(1, std::memory_order_relaxed);
    m_droppedPermits.fetch_add(1, std::memory_order_relaxed);
    if (permit.m_probe) releaseProbeSlot(permit.m_generation);
}

void CircuitBreaker::releaseProbeSlot(uint64_t generation) {
    uint64_t word = m_word.load(std::memory_order_acquire);
    while (generationOf(word) == generation && stateOf(word) == BreakerState::HalfOpen && probesOf(word) > 0) {
        if (m_word.compare_exchange_weak(word, word - kProbeUnit, std::memory_order_acq_rel)) return;
    }
}

BreakerState CircuitBreaker::operatorTransition(BreakerState to, const char* verb, const std::string& why) {
    std::lock_guard lock(m_mutex);
    const BreakerState from = stateOf(m_word.load(std::memory_order_acquire));
    std::string reason = reasons::byOperator(verb, why);
    if (to == BreakerState::Closed) {
        // "reset returns to closed with a cleared window": the refusals shown with the window go too.
        m_refusals.clear();
        if (from == BreakerState::Closed) {
            // Nothing moves, but a reset still forgets the window and the backoff.
            m_window.clear();
            m_consecutiveFailures = 0;
            m_backoffLevel = 0;
            m_opensSinceClosed = 0;
            m_reason = std::move(reason);
            m_origin.clear();
            m_byOperator = true;
            return from;
        }
    } else if (from == to) {
        m_reason = std::move(reason);
        m_origin.clear();
        m_byOperator = true;
        return from;
    }
    transitionLocked(to, std::move(reason));
    m_byOperator = true;
    return to;
}

BreakerState CircuitBreaker::forceOpen(const std::string& why) {
    return operatorTransition(BreakerState::ForcedOpen, "forced open", why);
}
BreakerState CircuitBreaker::forceClose(const std::string& why) {
    return operatorTransition(BreakerState::ForcedClosed, "forced closed", why);
}
BreakerState CircuitBreaker::reset(const std::string& why) {
    return operatorTransition(BreakerState::Closed, "reset", why);
}

BreakerState CircuitBreaker::state() const { return stateOf(m_word.load(std::memory_order_acquire)); }

std::string CircuitBreaker::reason() const {
    std::lock_guard lock(m_mutex);
    return m_reason;
}

BreakerSnapshot CircuitBreaker::snapshot() const {
    const SteadyTime now = m_clock.now();
    const WallTime wallNow = m_clock.wallNow();
    std::lock_guard lock(m_mutex);
    const uint64_t word = m_word.load(std::memory_order_acquire);
    BreakerSnapshot s;
    s.provider = m_provider;
    s.state = stateOf(word);
    s.reason = m_reason;
    s.originReplica = m_origin;
    s.since = m_since;
    if (s.state == BreakerState::Open) {
        const int64_t left = m_openUntilNs.load(std::memory_order_acquire) - toNanos(now);
        s.retryAfterS = std::max<double>(0.0, static_cast<double>(left) / 1e9);
    } else if (s.state == BreakerState::HalfOpen &&
               (probesOf(word) >= m_policy.halfOpenProbes || !fleetProbeAllowed(word))) {
        s.retryAfterS = std::chrono::duration<double>(kHalfOpenBusyRetry).count();
    } else if (s.state != BreakerState::ForcedOpen) {
        s.retryAfterS = 0.0;
    }
    s.openCount = m_opensSinceClosed;
    s.consecutiveFailures = m_consecutiveFailures;
    s.inFlight = m_inFlight.load(std::memory_order_relaxed);
    s.halfOpenProbesInFlight = s.state == BreakerState::HalfOpen ? probesOf(word) : 0;
    s.windowSeconds = m_policy.windowS;
    s.window = m_window.totals(now);
    s.fleetWindow = m_fleetOthers;

    // Refusals live in their own lock-free ring; fold them into the buckets a person sees.
    const int64_t head = steadySecond(now);
    std::vector<WindowBucket> calls = m_window.buckets(now);
    auto call = calls.begin();
    const auto shortCircuited = static_cast<std::size_t>(Outcome::ShortCircuited);
    for (int64_t second = head - m_policy.windowS + 1; second <= head; ++second) {
        WindowCounts counts;
        if (call != calls.end() && call->second == second) counts = (call++)->counts;
        counts.outcomes[shortCircuited] = m_refusals.countAt(second);
        s.window.outcomes[shortCircuited] += counts.outcomes[shortCircuited];
        const bool empty = counts.calls == 0 && counts.outcomes[shortCircuited] == 0 &&
                           counts.count(Outcome::Cancelled) == 0;
        if (empty) continue;
        s.buckets.push_back({std::floor(toUnixSeconds(wallNow)) - static_cast<double>(head - second), counts});
    }
    s.transitionsTo = m_transitionsTo;
    s.shortCircuitedTotal = m_refusals.total();
    s.staleCompletions = m_staleCompletions;
    s.droppedPermits = m_droppedPermits.load(std::memory_order_relaxed);
    s.policy = m_policy;
    return s;
}

} // namespace fusebox
