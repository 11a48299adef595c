#pragma once
// One provider's circuit breaker (CONTRACT §2 "Breaker semantics").
//
// Two steps, to suit long streamed calls: tryAcquire() either admits (a Permit) or refuses (why, and when to
// retry); the permit is completed later with the attempt's outcome. A permit dropped without an outcome (the
// client left) frees its half-open slot and counts nowhere. A permit issued before a state change does not count
// against the new state: every transition bumps a generation, and a completion from an older generation is only
// tallied as stale.
//
// Admission and refusal are lock-free: the state, the half-open probes in flight and the generation share one
// atomic word, so a probe slot is claimed by the same compare-and-swap that checks the state. Completions take a
// short lock (the window); transitions happen under it, exactly once, and publish an event.
#include "breaker/BreakerPolicy.h"
#include "breaker/BreakerState.h"
#include "breaker/BreakerWord.h"
#include "breaker/FleetSeam.h"
#include "breaker/RefusalCounter.h"
#include "breaker/SlidingWindow.h"
#include "core/Clock.h"
#include "core/EventBus.h"
#include "core/Random.h"

#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>

namespace fusebox {

class CircuitBreaker;

class Permit {
public:
    Permit() = default;
    Permit(Permit&& other) noexcept { *this = std::move(other); }
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { release(); }

    bool valid() const { return m_breaker != nullptr; }
    bool isProbe() const { return m_probe; }
    uint64_t generation() const { return m_generation; }
    // Gives the permit back without an outcome (the attempt never ran to an answer we can judge).
    void release();

private:
    friend class CircuitBreaker;
    CircuitBreaker* m_breaker = nullptr;
    uint64_t m_generation = 0;
    bool m_probe = false;
};

struct Refusal {
    BreakerState state = BreakerState::Open;
    Millis retryAfter{0}; // soonest a call may be admitted again
};

struct Admission {
    Permit permit;
    Refusal refusal; // meaningful only when no permit was given
    explicit operator bool() const { return permit.valid(); }
};

struct CallResult {
    Outcome outcome = Outcome::Success;
    Millis timeToFirstByte{0};
    std::optional<Millis> retryAfter; // from a 429's Retry-After header
};

struct BreakerBucket {
    double t = 0; // unix seconds of the bucket's start
    WindowCounts counts;
};

struct BreakerSnapshot {
    std::string provider;
    BreakerState state = BreakerState::Closed;
    std::string reason;
    std::string originReplica; // the fleet replica whose verdict the state is; empty: decided here
    WallTime since{};
    std::optional<double> retryAfterS; // set while calls are refused; unset when forced open (no end)
    int openCount = 0;                 // opens since last closed
    int consecutiveFailures = 0;
    int64_t inFlight = 0;
    int halfOpenProbesInFlight = 0;
    int windowSeconds = 0;
    WindowCounts window; // short_circuited included
    WindowCounts fleetWindow; // the other replicas' calls, failures and slow calls in their windows (fleet only)
    std::vector<BreakerBucket> buckets;
    std::array<uint64_t, 5> transitionsTo{}; // by BreakerState, since start
    uint64_t shortCircuitedTotal = 0;
    uint64_t staleCompletions = 0;
    uint64_t droppedPermits = 0;
    BreakerPolicy policy;
};

class CircuitBreaker {
public:
    CircuitBreaker(std::string provider, BreakerPolicy policy, Clock& clock, Random& random,
                   EventBus* events = nullptr);
    CircuitBreaker(const CircuitBreaker&) = delete;
    CircuitBreaker& operator=(const CircuitBreaker&) = delete;

    Admission tryAcquire();
    // Completes a permit with its attempt's outcome; the permit is spent afterwards. No-op on a spent permit.
    void complete(Permit& permit, const CallResult& result);

    // Operator commands. Each returns the state afterwards.
    BreakerState forceOpen(const std::string& why);
    BreakerState forceClose(const std::string& why);
    BreakerState reset(const std::string& why);

    BreakerState state() const;
    std::string reason() const;
    BreakerSnapshot snapshot() const;
    const std::string& provider() const { return m_provider; }
    const BreakerPolicy& policy() const { return m_policy; }

    // ---- The fleet seam (CircuitBreakerFleet.cpp), used by engine/fleet's sync thread only. Requests never wait
    // on any of it: they see its effects through the same word and window as always.
    void enableFleet(); // from now on the rate rules also count the fleet's calls
    // Applies a verdict another replica published; the reason gains "[replica X]" and the event names X.
    void applyFleetVerdict(const FleetVerdict& verdict);
    LocalBreakerView localView() const;
    WindowCounts localWindowCounts() const; // this replica's own window totals, for the fleet's
    void setFleetCounts(const WindowCounts& others); // the other replicas' totals; zero when alone
    // While on (Redis connected), a half-open breaker sends its probe only with the fleet's lease.
    void setFleetProbeGate(bool on);
    // The generation of a half-open state waiting for the lease, if any.
    std::optional<uint64_t> awaitingFleetProbe() const;
    bool grantFleetProbe(uint64_t generation); // false when the breaker has moved on
    bool holdsFleetProbe(uint64_t generation) const;
    void revokeFleetProbe();

private:
    friend class Permit;
    void releasePermit(Permit& permit);
    Permit admit(uint64_t generation, bool probe);
    Refusal refuse(BreakerState state, Nanos retryAfter, SteadyTime now);
    void beginHalfOpen(uint64_t seenWord, SteadyTime now);
    void releaseProbeSlot(uint64_t generation);

    // Under m_mutex:
    void onClosedCompletionLocked(const CallResult& result, bool failure, SteadyTime now);
    void onProbeCompletionLocked(const CallResult& result, bool failure, SteadyTime now);
    void openLocked(const std::string& why, SteadyTime now);
    void openForRateLimitLocked(std::optional<Millis> retryAfter, SteadyTime now);
    void transitionLocked(BreakerState to, std::string reason, std::optional<SteadyTime> openUntil = {},
                          std::string origin = {});
    const WindowCounts& fleetTotalsLocked(SteadyTime now);
    bool fleetProbeAllowed(uint64_t word) const {
        return !m_fleetProbeGate.load(std::memory_order_acquire) ||
               m_fleetProbeGrant.load(std::memory_order_acquire) == breakerword::generationOf(word);
    }
    BreakerState operatorTransition(BreakerState to, const char* verb, const std::string& why);

    const std::string m_provider;
    const BreakerPolicy m_policy;
    Clock& m_clock;
    Random& m_random;
    EventBus* m_events;

    std::atomic<uint64_t> m_word; // state | probes in flight | generation (see CircuitBreaker.cpp)
    std::atomic<int64_t> m_openUntilNs{0};
    std::atomic<int64_t> m_inFlight{0};
    std::atomic<uint64_t> m_droppedPermits{0};
    RefusalCounter m_refusals;

    mutable std::mutex m_mutex;
    mutable SlidingWindow m_window;
    int m_consecutiveFailures = 0;
    int m_backoffLevel = 0;    // failure opens since last closed: the k of open_s × backoff^(k-1)
    int m_opensSinceClosed = 0; // every open since last closed, 429s included
    int m_probeSuccesses = 0;
    uint64_t m_staleCompletions = 0;
    std::string m_reason = "closed since start";
    WallTime m_since;
    std::array<uint64_t, 5> m_transitionsTo{};

    // The fleet (see the seam above).
    std::atomic<bool> m_fleetProbeGate{false};
    std::atomic<uint64_t> m_fleetProbeGrant{0}; // the half-open generation whose probe is this replica's
    bool m_fleetEnabled = false;                // under m_mutex, like everything below
    WindowCounts m_fleetOthers;
    WindowCounts m_fleetTotals; // scratch: this replica's window plus the others'
    std::string m_origin;       // the replica whose verdict the current state is; empty: this one
    bool m_byOperator = false;  // the current state is an operator's command given here
};

} // namespace fusebox
