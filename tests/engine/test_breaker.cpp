// The breaker's rules, one at a time, with a manual clock (CONTRACT §2 "Breaker semantics").
#include "breaker/CircuitBreaker.h"
#include "breaker/RetryAfter.h"
#include "core/EventBus.h"
#include "TestSupport.h"

#include <QtTest>

using namespace fusebox;
using namespace std::chrono_literals;

namespace {

// Only the rule under test is on; the others are switched off so a test shows one rule alone.
BreakerPolicy onlyConsecutive(int n) {
    BreakerPolicy p;
    p.consecutiveFailures = n;
    p.failureRate = 0;
    p.slowCallRate = 0;
    p.jitter = 0;
    return p;
}

BreakerPolicy onlyFailureRate(double rate, int minCalls) {
    BreakerPolicy p = onlyConsecutive(0);
    p.failureRate = rate;
    p.minCalls = minCalls;
    return p;
}

struct Rig {
    explicit Rig(BreakerPolicy policy) : breaker("openai", policy, clock, random, &events) {
        events.subscribe([this](const Event& e) { seen.push_back(e); });
    }
    // One whole call: acquire, then complete with the outcome. Returns false when refused.
    bool call(Outcome outcome, Millis ttfb = 10ms, std::optional<Millis> retryAfter = {}) {
        Admission a = breaker.tryAcquire();
        if (!a) return false;
        breaker.complete(a.permit, {outcome, ttfb, retryAfter});
        return true;
    }
    ManualClock clock;
    test::FixedRandom random;
    EventBus events;
    std::vector<Event> seen;
    CircuitBreaker breaker;
};

} // namespace

class BreakerTest : public QObject {
    Q_OBJECT
private slots:
    void startsClosedAndAdmits() {
        Rig rig(BreakerPolicy{});
        QCOMPARE(rig.breaker.state(), BreakerState::Closed);
        QVERIFY(rig.call(Outcome::Success));
        QCOMPARE(rig.breaker.snapshot().window.calls, 1u);
    }

    void consecutiveFailuresOpen() {
        Rig rig(onlyConsecutive(3));
        QVERIFY(rig.call(Outcome::ServerError));
        QVERIFY(rig.call(Outcome::Timeout));
        QCOMPARE(rig.breaker.state(), BreakerState::Closed);
        QVERIFY(rig.call(Outcome::ConnectError));
        QCOMPARE(rig.breaker.state(), BreakerState::Open);
        QCOMPARE(rig.seen.size(), size_t{1});
        QCOMPARE(rig.seen[0].from, std::string("closed"));
        QCOMPARE(rig.seen[0].to, std::string("open"));
        QCOMPARE(rig.seen[0].provider, std::string("openai"));
        QVERIFY2(rig.seen[0].reason.starts_with("3 consecutive failures (last: connect_error)"), rig.seen[0].reason.c_str());
        // Open refuses at once, with no call.
        Admission refused = rig.breaker.tryAcquire();
        QVERIFY(!refused);
        QCOMPARE(refused.refusal.state, BreakerState::Open);
        QCOMPARE(refused.refusal.retryAfter, Millis{30'000});
    }

    void consecutiveZeroDisablesTheRule() {
        Rig rig(onlyConsecutive(0));
        for (int i = 0; i < 50; ++i) QVERIFY(rig.call(Outcome::ServerError));
        QCOMPARE(rig.breaker.state(), BreakerState::Closed);
    }

    void nonFailureOutcomesDoNotCount() {
        Rig rig(onlyConsecutive(2));
        QVERIFY(rig.call(Outcome::ClientError));
        QVERIFY(rig.call(Outcome::ClientError));
        QVERIFY(rig.call(Outcome::RateLimited, 10ms, 0ms)); // 429 is not a failure unless listed...
        QCOMPARE(rig.breaker.snapshot().consecutiveFailures, 0);
    }

    void fourOneFourTripsRateButNotConsecutive() {
        {
            Rig rig(onlyConsecutive(5));
            for (int i = 0; i < 4; ++i) QVERIFY(rig.call(Outcome::ServerError));
            QVERIFY(rig.call(Outcome::Success));
            for (int i = 0; i < 4; ++i) QVERIFY(rig.call(Outcome::ServerError));
            QCOMPARE(rig.breaker.state(), BreakerState::Closed);
        }
        {
            Rig rig(onlyFailureRate(0.5, 9));
            for (int i = 0; i < 4; ++i) QVERIFY(rig.call(Outcome::ServerError));
            QVERIFY(rig.call(Outcome::Success));
            for (int i = 0; i < 3; ++i) QVERIFY(rig.call(Outcome::ServerError));
            QCOMPARE(rig.breaker.state(), BreakerState::Closed); // 8 calls: below min_calls
            QVERIFY(rig.call(Outcome::ServerError));
            QCOMPARE(rig.breaker.state(), BreakerState::Open);
            QVERIFY2(rig.seen.back().reason.starts_with("failure rate 89% \u2265 50% over 60 s (8 of 9 calls)"),
                     rig.seen.back().reason.c_str());
        }
    }

    void minCallsHoldsTheRateRuleBack() {
        Rig rig(onlyFailureRate(0.5, 10));
        for (int i = 0; i < 9; ++i) QVERIFY(rig.call(Outcome::ServerError));
        QCOMPARE(rig.breaker.state(), BreakerState::Closed);
        QVERIFY(rig.call(Outcome::ServerError));
        QCOMPARE(rig.breaker.state(), BreakerState::Open);
    }

    void rateBelowThresholdStaysClosed() {
        Rig rig(onlyFailureRate(0.5, 10));
        for (int i = 0; i < 100; ++i) QVERIFY(rig.call(i % 3 == 0 ? Outcome::ServerError : Outcome::Success));
        QCOMPARE(rig.breaker.state(), BreakerState::Closed);
        // 3 of 10 at a 0.3 threshold trips despite 0.3 * 10 != 3.0 in floating point.
        Rig exact(onlyFailureRate(0.3, 10));
        for (int i = 0; i < 7; ++i) QVERIFY(exact.call(Outcome::Success));
        for (int i = 0; i < 3; ++i) QVERIFY(exact.call(Outcome::ServerError));
        QCOMPARE(exact.breaker.state(), BreakerState::Open);
    }

    void oldFailuresAgeOutOfTheWindow() {
        BreakerPolicy policy = onlyFailureRate(0.5, 10);
        policy.windowS = 60;
        Rig rig(policy);
        for (int i = 0; i < 9; ++i) QVERIFY(rig.call(Outcome::ServerError));
        rig.clock.advance(61s); // every one of those is now older than the window
        QCOMPARE(rig.breaker.snapshot().window.calls, 0u);
        for (int i = 0; i < 9; ++i) QVERIFY(rig.call(Outcome::Success));
        QVERIFY(rig.call(Outcome::ServerError));
        QCOMPARE(rig.breaker.state(), BreakerState::Closed); // 1 of 10, not 10 of 19
        // Partial ageing: failures 30 s ago still count, those 61 s ago do not.
        Rig partial(policy);
        for (int i = 0; i < 5; ++i) QVERIFY(partial.call(Outcome::ServerError));
        partial.clock.advance(30s);
        for (int i = 0; i < 4; ++i) QVERIFY(partial.call(Outcome::Success));
        QCOMPARE(partial.breaker.snapshot().window.calls, 9u);
        partial.clock.advance(31s);
        QCOMPARE(partial.breaker.snapshot().window.calls, 4u);
        QCOMPARE(partial.breaker.snapshot().window.failures, 0u);
    }

    void slowCallsOpen() {
        BreakerPolicy policy = onlyConsecutive(0);
        policy.slowCallMs = 1000;
        policy.slowCallRate = 0.5;
        policy.minCalls = 4;
        Rig rig(policy);
        QVERIFY(rig.call(Outcome::Success, 100ms));
        QVERIFY(rig.call(Outcome::Success, 1500ms));
        QVERIFY(rig.call(Outcome::Success, 100ms));
        QCOMPARE(rig.breaker.snapshot().window.slow, 1u);
        QVERIFY(rig.call(Outcome::Success, 2000ms));
        QCOMPARE(rig.breaker.state(), BreakerState::Open);
        QVERIFY2(rig.seen.back().reason.starts_with("slow-call rate 50% \u2265 50% over 60 s (2 of 4 calls slower than 1000 ms"),
                 rig.seen.back().reason.c_str());
        // A slow failure is a failure, not a slow call.
        Rig failures(policy);
        QVERIFY(failures.call(Outcome::ServerError, 5000ms));
        QCOMPARE(failures.breaker.snapshot().window.slow, 0u);
    }

    void openPeriodsGrowAndAreCapped() {
        BreakerPolicy policy = onlyConsecutive(1);
        policy.openS = 10;
        policy.backoff = 2;
        policy.maxOpenS = 35;
        Rig rig(policy);
        const double expected[] = {10, 20, 35, 35};
        QVERIFY(rig.call(Outcome::ServerError));
        for (double period : expected) {
            QCOMPARE(rig.breaker.state(), BreakerState::Open);
            QCOMPARE(*rig.breaker.snapshot().retryAfterS, period);
            rig.clock.advance(std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(period)) - 1ms);
            QVERIFY(!rig.breaker.tryAcquire()); // still open a millisecond before the end
            rig.clock.advance(1ms);
            QVERIFY(rig.call(Outcome::ServerError)); // the probe is let through, fails, opens longer
        }
        QCOMPARE(rig.breaker.snapshot().openCount, 5);
    }

    void jitterStaysWithinBounds() {
        BreakerPolicy policy = onlyConsecutive(1);
        policy.openS = 100;
        policy.maxOpenS = 1000;
        policy.jitter = 0.1;
        for (double unit : {-1.0, -0.5, 0.0, 0.7, 1.0}) {
            Rig rig(policy);
            rig.random.set(unit);
            QVERIFY(rig.call(Outcome::ServerError));
            const double period = *rig.breaker.snapshot().retryAfterS;
            QVERIFY(period >= 90.0 - 1e-6 && period <= 110.0 + 1e-6);
            QCOMPARE(period, 100.0 * (1.0 + 0.1 * unit));
        }
        // At the cap, jitter only spreads downwards: never longer than max_open_s.
        policy.maxOpenS = 100;
        Rig capped(policy);
        capped.random.set(1.0);
        QVERIFY(capped.call(Outcome::ServerError));
        QCOMPARE(*capped.breaker.snapshot().retryAfterS, 100.0);
    }

    void halfOpenLetsOneProbeThrough() {
        Rig rig(onlyConsecutive(1));
        QVERIFY(rig.call(Outcome::ServerError));
        rig.clock.advance(30s);
        Admission probe = rig.breaker.tryAcquire();
        QVERIFY(probe);
        QVERIFY(probe.permit.isProbe());
        QCOMPARE(rig.breaker.state(), BreakerState::HalfOpen);
        for (int i = 0; i < 10; ++i) {
            Admission other = rig.breaker.tryAcquire();
            QVERIFY(!other);
            QCOMPARE(other.refusal.state, BreakerState::HalfOpen);
        }
        QCOMPARE(rig.breaker.snapshot().halfOpenProbesInFlight, 1);
        rig.breaker.complete(probe.permit, {Outcome::Success, 10ms, {}});
        QCOMPARE(rig.breaker.state(), BreakerState::Closed);
        QCOMPARE(rig.seen.back().reason, std::string("1 of 1 probe succeeded"));
        QCOMPARE(rig.breaker.snapshot().window.calls, 0u); // closing starts a clean window
        QCOMPARE(rig.breaker.snapshot().openCount, 0);
    }

    void closeAfterNeedsSeveralSuccesses() {
        BreakerPolicy policy = onlyConsecutive(1);
        policy.halfOpenProbes = 2;
        policy.closeAfter = 3;
        Rig rig(policy);
        QVERIFY(rig.call(Outcome::ServerError));
        rig.clock.advance(30s);
        Admission a = rig.breaker.tryAcquire(), b = rig.breaker.tryAcquire(), c = rig.breaker.tryAcquire();
        QVERIFY(a && b && !c);
        rig.breaker.complete(a.permit, {Outcome::Success, 1ms, {}});
        rig.breaker.complete(b.permit, {Outcome::Success, 1ms, {}});
        QCOMPARE(rig.breaker.state(), BreakerState::HalfOpen);
        QVERIFY(rig.call(Outcome::Success));
        QCOMPARE(rig.breaker.state(), BreakerState::Closed);
    }

    void failedProbeReopensLonger() {
        Rig rig(onlyConsecutive(1));
        QVERIFY(rig.call(Outcome::ServerError));
        QCOMPARE(*rig.breaker.snapshot().retryAfterS, 30.0);
        rig.clock.advance(30s);
        QVERIFY(rig.call(Outcome::Timeout));
        QCOMPARE(rig.breaker.state(), BreakerState::Open);
        QCOMPARE(*rig.breaker.snapshot().retryAfterS, 60.0);
        QVERIFY2(rig.seen.back().reason.starts_with("probe failed (timeout); open for 60 s"), rig.seen.back().reason.c_str());
        QCOMPARE(rig.seen.back().from, std::string("half_open"));
    }

    void droppedProbeFreesItsSlotWithoutCounting() {
        Rig rig(onlyConsecutive(1));
        QVERIFY(rig.call(Outcome::ServerError));
        rig.clock.advance(30s);
        {
            Admission probe = rig.breaker.tryAcquire();
            QVERIFY(probe);
            QVERIFY(!rig.breaker.tryAcquire());
        } // the client left: the permit is dropped
        QCOMPARE(rig.breaker.state(), BreakerState::HalfOpen);
        QCOMPARE(rig.breaker.snapshot().inFlight, int64_t{0});
        QCOMPARE(rig.breaker.snapshot().droppedPermits, uint64_t{1});
        QVERIFY(rig.breaker.tryAcquire()); // the slot is free again
    }

    void cancelledProbeProvesNothing() {
        Rig rig(onlyConsecutive(1));
        QVERIFY(rig.call(Outcome::ServerError));
        rig.clock.advance(30s);
        QVERIFY(rig.call(Outcome::Cancelled));
        QCOMPARE(rig.breaker.state(), BreakerState::HalfOpen);
        QVERIFY(rig.call(Outcome::Success));
        QCOMPARE(rig.breaker.state(), BreakerState::Closed);
    }

    void permitFromBeforeAStateChangeDoesNotCount() {
        Rig rig(onlyConsecutive(1));
        Admission early = rig.breaker.tryAcquire(); // issued while closed
        QVERIFY(rig.call(Outcome::ServerError));   // opens the breaker
        rig.clock.advance(30s);
        Admission probe = rig.breaker.tryAcquire();
        QVERIFY(probe.permit.isProbe());
        // The early call succeeds late: it must not close the half-open breaker nor free the probe's slot.
        rig.breaker.complete(early.permit, {Outcome::Success, 1ms, {}});
        QCOMPARE(rig.breaker.state(), BreakerState::HalfOpen);
        QVERIFY(!rig.breaker.tryAcquire());
        QCOMPARE(rig.breaker.snapshot().staleCompletions, uint64_t{1});
        // A late failure from before a reset does not count against the fresh window either.
        Admission beforeReset = rig.breaker.tryAcquire();
        rig.breaker.reset("test");
        rig.breaker.complete(probe.permit, {Outcome::ServerError, 1ms, {}});
        QCOMPARE(rig.breaker.state(), BreakerState::Closed);
        QCOMPARE(rig.breaker.snapshot().window.calls, 0u);
    }

    void rateLimitOpensForRetryAfterSeconds() {
        BreakerPolicy policy = onlyConsecutive(5);
        policy.openS = 30;
        Rig rig(policy);
        QVERIFY(rig.call(Outcome::RateLimited, 5ms, Millis{12'000}));
        QCOMPARE(rig.breaker.state(), BreakerState::Open);
        QCOMPARE(*rig.breaker.snapshot().retryAfterS, 12.0);
        QVERIFY2(rig.seen.back().reason.starts_with("rate limited (429), Retry-After 12 s"), rig.seen.back().reason.c_str());
        rig.clock.advance(12s);
        QVERIFY(rig.call(Outcome::RateLimited, 5ms, Millis{12'000}));
        QCOMPARE(*rig.breaker.snapshot().retryAfterS, 12.0); // no backoff growth
        rig.clock.advance(12s);
        QVERIFY(rig.call(Outcome::RateLimited, 5ms, std::nullopt));
        QCOMPARE(*rig.breaker.snapshot().retryAfterS, 5.0); // rate_limit_open_s
        rig.clock.advance(5s);
        QVERIFY(rig.call(Outcome::RateLimited, 5ms, Millis{3'600'000}));
        QCOMPARE(*rig.breaker.snapshot().retryAfterS, 600.0); // capped at max_open_s
        QVERIFY(rig.seen.back().reason.find("capped") != std::string::npos);
    }

    void rateLimitOpensForRetryAfterDate() {
        Rig rig(onlyConsecutive(5));
        const std::string date = formatHttpDate(rig.clock.wallNow() + 42s);
        auto parsed = parseRetryAfter(date, rig.clock.wallNow());
        QVERIFY(parsed.has_value());
        QVERIFY(rig.call(Outcome::RateLimited, 5ms, parsed));
        const double left = *rig.breaker.snapshot().retryAfterS;
        QVERIFY2(left > 41.0 && left <= 42.0, std::to_string(left).c_str());
        // With the failure probe after it, the first failure open uses open_s, not a grown period.
        rig.clock.advance(42s);
        QVERIFY(rig.call(Outcome::ServerError));
        QCOMPARE(*rig.breaker.snapshot().retryAfterS, 30.0);
    }

    void forcedStatesAndReset() {
        Rig rig(onlyConsecutive(1));
        QCOMPARE(rig.breaker.forceOpen("maintenance"), BreakerState::ForcedOpen);
        Admission refused = rig.breaker.tryAcquire();
        QVERIFY(!refused);
        QCOMPARE(refused.refusal.state, BreakerState::ForcedOpen);
        rig.clock.advance(3600s);
        QVERIFY(!rig.breaker.tryAcquire()); // until released, whatever the time
        QCOMPARE(rig.seen.back().reason, std::string("forced open by operator: maintenance"));
        QVERIFY(!rig.breaker.snapshot().retryAfterS.has_value());

        QCOMPARE(rig.breaker.forceClose(""), BreakerState::ForcedClosed);
        for (int i = 0; i < 20; ++i) QVERIFY(rig.call(Outcome::ServerError)); // admits everything...
        QCOMPARE(rig.breaker.state(), BreakerState::ForcedClosed);
        QCOMPARE(rig.breaker.snapshot().window.failures, 20u); // ...and still records
        QCOMPARE(rig.breaker.snapshot().consecutiveFailures, 20);

        QCOMPARE(rig.breaker.reset("incident over"), BreakerState::Closed);
        const auto after = rig.breaker.snapshot();
        QCOMPARE(after.window.calls, 0u);
        QCOMPARE(after.consecutiveFailures, 0);
        QCOMPARE(rig.seen.back().to, std::string("closed"));
        QCOMPARE(rig.seen.back().reason, std::string("reset by operator: incident over"));
    }

    void resetForgetsTheBackoff() {
        Rig rig(onlyConsecutive(1));
        QVERIFY(rig.call(Outcome::ServerError));
        rig.clock.advance(30s);
        QVERIFY(rig.call(Outcome::ServerError));
        QCOMPARE(*rig.breaker.snapshot().retryAfterS, 60.0);
        rig.breaker.reset("");
        QVERIFY(rig.call(Outcome::ServerError));
        QCOMPARE(*rig.breaker.snapshot().retryAfterS, 30.0);
    }

    void refusalsAreCountedAsShortCircuited() {
        Rig rig(onlyConsecutive(1));
        QVERIFY(rig.call(Outcome::ServerError));
        for (int i = 0; i < 7; ++i) QVERIFY(!rig.breaker.tryAcquire());
        const auto s = rig.breaker.snapshot();
        QCOMPARE(s.window.count(Outcome::ShortCircuited), 7u);
        QCOMPARE(s.shortCircuitedTotal, uint64_t{7});
        QCOMPARE(s.buckets.size(), size_t{1});
        QCOMPARE(s.buckets[0].counts.count(Outcome::ShortCircuited), 7u);
        QCOMPARE(s.buckets[0].counts.failures, 1u);
    }

    void transitionsHappenOncePerChange() {
        Rig rig(onlyConsecutive(1));
        QVERIFY(rig.call(Outcome::ServerError));
        rig.clock.advance(30s);
        Admission probe = rig.breaker.tryAcquire();
        for (int i = 0; i < 5; ++i) rig.breaker.tryAcquire();
        rig.breaker.complete(probe.permit, {Outcome::Success, 1ms, {}});
        std::vector<std::string> path;
        for (const auto& e : rig.seen) path.push_back(e.from + ">" + e.to);
        QCOMPARE(path, (std::vector<std::string>{"closed>open", "open>half_open", "half_open>closed"}));
        const auto s = rig.breaker.snapshot();
        QCOMPARE(s.transitionsTo[static_cast<int>(BreakerState::Open)], uint64_t{1});
    }
};

QTEST_GUILESS_MAIN(BreakerTest)
#include "test_breaker.moc"
