// Many threads, hundreds of thousands of calls, against one breaker that keeps flipping between states.
// Invariants: never more probes in flight than allowed; every admitted call ends counted exactly once
// (in the window, as stale, or as dropped); transitions come in legal pairs.
#include "breaker/CircuitBreaker.h"
#include "TestSupport.h"

#include <QtTest>

#include <atomic>
#include <set>
#include <thread>

using namespace fusebox;
using namespace std::chrono_literals;

class BreakerStressTest : public QObject {
    Q_OBJECT
private slots:
    void invariantsHoldUnderContention() {
        constexpr int kThreads = 4;
        constexpr int kCallsPerThread = 100'000;
        BreakerPolicy policy;
        policy.consecutiveFailures = 3;
        policy.failureRate = 0.5;
        policy.minCalls = 20;
        policy.windowS = 5;
        policy.openS = 0.001; // 1 ms: the breaker cycles through open and half-open constantly
        policy.maxOpenS = 0.004;
        policy.halfOpenProbes = 2;
        policy.closeAfter = 2;

        ManualClock clock;
        test::FixedRandom random(0.3);
        EventBus events;
        std::mutex transitionsMutex;
        std::vector<std::pair<std::string, std::string>> transitions;
        events.subscribe([&](const Event& e) {
            std::lock_guard lock(transitionsMutex);
            transitions.emplace_back(e.from, e.to);
        });
        CircuitBreaker breaker("stress", policy, clock, random, &events);

        std::atomic<int> probesInFlight{0};
        std::atomic<int> maxProbesSeen{0};
        std::atomic<uint64_t> admitted{0}, completed{0}, dropped{0}, refused{0};
        std::vector<std::thread> workers;
        for (int t = 0; t < kThreads; ++t) {
            workers.emplace_back([&, t] {
                uint64_t x = 0x9E3779B97F4A7C15ull * (t + 1);
                for (int i = 0; i < kCallsPerThread; ++i) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17; // xorshift: a cheap per-thread random stream
                    // The workers move time themselves, so open periods end while others are mid-call
                    // whatever the scheduler does.
                    if (i % 32 == 0) clock.advance(250us);
                    Admission a = breaker.tryAcquire();
                    if (!a) {
                        refused.fetch_add(1, std::memory_order_relaxed);
                        continue;
                    }
                    admitted.fetch_add(1, std::memory_order_relaxed);
                    const bool probe = a.permit.isProbe();
                    if (probe) {
                        const int now = probesInFlight.fetch_add(1) + 1;
                        int seen = maxProbesSeen.load();
                        while (now > seen && !maxProbesSeen.compare_exchange_weak(seen, now)) {
                        }
                    }
                    const unsigned roll = static_cast<unsigned>(x % 100);
                    if (probe) probesInFlight.fetch_sub(1); // before completing: the slot is freed by completion
                    if (roll < 5) {
                        dropped.fetch_add(1, std::memory_order_relaxed);
                        a.permit.release();
                    } else {
                        completed.fetch_add(1, std::memory_order_relaxed);
                        const Outcome outcome = roll < 45 ? Outcome::ServerError : Outcome::Success;
                        breaker.complete(a.permit, {outcome, 1ms, {}});
                    }
                }
            });
        }
        for (auto& w : workers) w.join();

        const auto s = breaker.snapshot();
        QCOMPARE(admitted.load() + refused.load(), uint64_t{kThreads} * kCallsPerThread);
        QVERIFY2(maxProbesSeen.load() <= policy.halfOpenProbes, std::to_string(maxProbesSeen.load()).c_str());
        QCOMPARE(s.inFlight, int64_t{0});
        QCOMPARE(s.droppedPermits, dropped.load());
        QCOMPARE(s.shortCircuitedTotal, refused.load());
        // Every completion was either counted in the state it was issued under, or tallied stale.
        QVERIFY(s.staleCompletions <= completed.load());
        QVERIFY(completed.load() - s.staleCompletions > 0);
        // The breaker really cycled, and every transition was a legal one.
        QVERIFY2(transitions.size() > 100, std::to_string(transitions.size()).c_str());
        const std::set<std::pair<std::string, std::string>> legal = {
            {"closed", "open"}, {"open", "half_open"}, {"half_open", "open"}, {"half_open", "closed"}};
        for (const auto& t : transitions)
            QVERIFY2(legal.count(t), (t.first + " > " + t.second).c_str());
        // Transitions alternate: each one starts where the previous one ended.
        for (std::size_t i = 1; i < transitions.size(); ++i) QCOMPARE(transitions[i].first, transitions[i - 1].second);
    }

    void closedBreakerCountsEveryCallExactlyOnce() {
        // With no rule able to trip, nothing goes stale: the window must hold every completed call.
        BreakerPolicy policy;
        policy.consecutiveFailures = 0;
        policy.failureRate = 0;
        policy.slowCallRate = 0;
        policy.windowS = 60;
        ManualClock clock;
        test::FixedRandom random;
        CircuitBreaker breaker("exact", policy, clock, random);
        constexpr int kThreads = 4, kCalls = 50'000;
        std::vector<std::thread> workers;
        for (int t = 0; t < kThreads; ++t)
            workers.emplace_back([&, t] {
                for (int i = 0; i < kCalls; ++i) {
                    Admission a = breaker.tryAcquire();
                    breaker.complete(a.permit, {(i + t) % 4 == 0 ? Outcome::ServerError : Outcome::Success, 1ms, {}});
                }
            });
        for (auto& w : workers) w.join();
        const auto s = breaker.snapshot();
        QCOMPARE(s.window.calls, uint32_t{kThreads * kCalls});
        QCOMPARE(s.window.failures, uint32_t{kThreads * kCalls / 4});
        QCOMPARE(s.window.count(Outcome::Success), uint32_t{kThreads * kCalls * 3 / 4});
        QCOMPARE(s.staleCompletions, uint64_t{0});
        QCOMPARE(s.inFlight, int64_t{0});
    }
};

QTEST_GUILESS_MAIN(BreakerStressTest)
#include "test_breaker_stress.moc"
