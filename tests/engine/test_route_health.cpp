// routing/RouteHealth: what a route's clients get, judged from snapshots built by hand (it is a pure function of
// them), and the breaker's reset clearing what the window shows (refusals included).
#include "Snapshot.h"
#include "TestSupport.h"
#include "breaker/CircuitBreaker.h"
#include "routing/RouteHealth.h"

#include <QtTest>

using namespace fusebox;
using namespace std::chrono_literals;

namespace {

ProviderSnapshot provider(const std::string& id, BreakerState state = BreakerState::Closed,
                          std::optional<double> retryAfterS = 0.0) {
    ProviderSnapshot p;
    p.id = id;
    p.hasKey = true;
    p.breaker.provider = id;
    p.breaker.state = state;
    p.breaker.retryAfterS = retryAfterS;
    return p;
}

ProviderSnapshot withCalls(ProviderSnapshot p, uint64_t calls, double errorRate) {
    p.figures.recentCalls = calls;
    p.figures.errorRate = errorRate;
    return p;
}

ProviderSnapshot withoutKey(ProviderSnapshot p) {
    p.hasKey = false;
    p.keyHint = "set OPENAI_API_KEY";
    return p;
}

RouteConfig route(const std::string& name, std::vector<std::string> providers) {
    RouteConfig r;
    r.name = name;
    for (auto& p : providers) r.targets.push_back({p, ""});
    return r;
}

EngineSnapshot snapshot(std::vector<ProviderSnapshot> providers, std::vector<RouteConfig> routes) {
    EngineSnapshot s;
    s.providers = std::move(providers);
    s.routes = std::move(routes);
    return s;
}

} // namespace

class RouteHealthTest : public QObject {
    Q_OBJECT
private slots:
    void everyTargetServingIsOk() {
        const auto s = snapshot({withCalls(provider("a"), 50, 0.02), provider("b")}, {route("default", {"a", "b"})});
        const OverallHealth h = judgeOverall(s);
        QCOMPARE(h.state, RouteState::Ok);
        QCOMPARE(h.routes.size(), std::size_t{1});
        QCOMPARE(h.routes[0].state, RouteState::Ok);
        QVERIFY(!h.routes[0].retryAfterS);
        QCOMPARE(h.summary, std::string("all routes ok"));
    }

    void oneTargetOpenIsDegraded() {
        const auto s = snapshot({provider("a", BreakerState::Open, 12.2), provider("b")}, {route("default", {"a", "b"})});
        const OverallHealth h = judgeOverall(s);
        QCOMPARE(h.routes[0].state, RouteState::Degraded);
        QCOMPARE(h.state, RouteState::Degraded);
        QVERIFY2(h.routes[0].summary.find("a (open, retry in 13 s)") != std::string::npos, h.routes[0].summary.c_str());
        QCOMPARE(h.routes[0].targets[0].health.condition, ProviderCondition::Refusing);
        QCOMPARE(h.routes[0].targets[1].health.condition, ProviderCondition::Serving);
    }

    void everyTargetRefusingIsDownWithTheSoonestRetry() {
        const auto s = snapshot({provider("a", BreakerState::Open, 25.0), provider("b", BreakerState::Open, 7.5)},
                                {route("default", {"a", "b"})});
        const OverallHealth h = judgeOverall(s);
        QCOMPARE(h.state, RouteState::Down);
        QCOMPARE(h.routes[0].state, RouteState::Down);
        QVERIFY(h.routes[0].retryAfterS.has_value());
        QCOMPARE(*h.routes[0].retryAfterS, 7.5);
        QVERIFY2(h.routes[0].summary.find("soonest retry in 8 s") != std::string::npos, h.routes[0].summary.c_str());
        QCOMPARE(h.summary, std::string("route default down (retry in 8 s)"));
    }

    void forcedOpenAndNoKeyHaveNoRetry() {
        const auto s = snapshot({provider("a", BreakerState::ForcedOpen, std::nullopt), withoutKey(provider("b"))},
                                {route("default", {"a", "b"})});
        const RouteHealth r = judgeOverall(s).routes[0];
        QCOMPARE(r.state, RouteState::Down);
        QVERIFY(!r.retryAfterS);
        QVERIFY2(r.summary.find("waits for an operator or a key") != std::string::npos, r.summary.c_str());
        QCOMPARE(r.targets[1].health.condition, ProviderCondition::NoKey);
        QCOMPARE(r.targets[1].health.why, std::string("no key: set OPENAI_API_KEY"));
    }

    void aClosedBreakerFailingEveryCallCannotAnswer() {
        // Closed, forced closed: the breaker admits, yet every call of the last 60 s failed.
        const auto s = snapshot({withCalls(provider("a"), 10, 1.0), withCalls(provider("b", BreakerState::ForcedClosed), 4, 1.0)},
                                {route("default", {"a", "b"})});
        const OverallHealth h = judgeOverall(s);
        QCOMPARE(h.routes[0].targets[0].health.condition, ProviderCondition::FailingEveryCall);
        QCOMPARE(h.routes[0].state, RouteState::Down);
    }

    void aSlowBleedDegradesWithoutOpening() {
        // 27 % failures, below a 50 % failure_rate: the breaker stays closed, clients see failures.
        const auto s = snapshot({withCalls(provider("a"), 100, 0.27)}, {route("default", {"a"})});
        const RouteHealth r = judgeOverall(s).routes[0];
        QCOMPARE(r.state, RouteState::Degraded);
        QCOMPARE(r.targets[0].health.condition, ProviderCondition::Failing);
        QVERIFY2(r.summary.find("27 % of calls failed") != std::string::npos, r.summary.c_str());
        // Too few calls to judge: two failures of two are not yet "every call".
        const auto few = snapshot({withCalls(provider("a"), 2, 1.0)}, {route("default", {"a"})});
        QCOMPARE(judgeOverall(few).state, RouteState::Ok);
    }

    void halfOpenProbingCanAnswerButBusyProbeRefuses() {
        auto s = snapshot({provider("a", BreakerState::HalfOpen, 0.0)}, {route("default", {"a"})});
        QCOMPARE(judgeOverall(s).routes[0].state, RouteState::Degraded);
        QCOMPARE(judgeOverall(s).routes[0].targets[0].health.condition, ProviderCondition::Probing);
        s.providers[0].breaker.retryAfterS = 1.0;
        QCOMPARE(judgeOverall(s).routes[0].state, RouteState::Down);
    }

    void aSpentBudgetRefuses() {
        auto a = provider("a");
        a.budgetRefusal = BudgetRefusal{"daily budget $5.00 reached", 3600};
        const RouteHealth r = judgeOverall(snapshot({a}, {route("default", {"a"})})).routes[0];
        QCOMPARE(r.state, RouteState::Down);
        QCOMPARE(*r.retryAfterS, 3600.0);
    }

    void aProviderWithoutKeyDegradesOverallEvenOutsideRoutes() {
        const auto s = snapshot({provider("a"), withoutKey(provider("spare"))}, {route("default", {"a"})});
        const OverallHealth h = judgeOverall(s);
        QCOMPARE(h.routes[0].state, RouteState::Ok);
        QCOMPARE(h.state, RouteState::Degraded);
        QCOMPARE(h.summary, std::string("spare has no key"));
        // One degraded route: the header's sentence says why.
        const auto one = snapshot({provider("a", BreakerState::Open, 3.0), provider("b")}, {route("default", {"a", "b"})});
        QCOMPARE(judgeOverall(one).summary, std::string("route default degraded: a (open, retry in 3 s)"));
        QCOMPARE(std::string(routeStateName(h.state)), std::string("degraded"));
    }

    void resetClearsTheRefusalsOfTheWindow() {
        BreakerPolicy policy;
        policy.consecutiveFailures = 1;
        policy.jitter = 0;
        ManualClock clock;
        test::FixedRandom random;
        CircuitBreaker breaker("a", policy, clock, random);
        Admission first = breaker.tryAcquire();
        QVERIFY(first);
        breaker.complete(first.permit, {Outcome::ServerError, 10ms, {}});
        QCOMPARE(breaker.state(), BreakerState::Open);
        for (int i = 0; i < 5; ++i) QVERIFY(!breaker.tryAcquire());
        clock.advance(1s);
        for (int i = 0; i < 3; ++i) QVERIFY(!breaker.tryAcquire());
        BreakerSnapshot before = breaker.snapshot();
        QCOMPARE(before.window.count(Outcome::ShortCircuited), 8u);
        QVERIFY(!before.buckets.empty());

        breaker.reset("all clear");
        const BreakerSnapshot after = breaker.snapshot();
        QCOMPARE(after.state, BreakerState::Closed);
        QCOMPARE(after.window.count(Outcome::ShortCircuited), 0u);
        QCOMPARE(after.window.calls, 0u);
        QVERIFY(after.buckets.empty());
        QCOMPARE(after.shortCircuitedTotal, uint64_t{8}); // the total since start is history, not the window

        // A reset out of forced open clears them too.
        breaker.forceOpen("x");
        breaker.forceClose("y");
        breaker.forceOpen("z");
        QVERIFY(!breaker.tryAcquire());
        breaker.reset("again");
        QCOMPARE(breaker.snapshot().window.count(Outcome::ShortCircuited), 0u);
    }
};

QTEST_GUILESS_MAIN(RouteHealthTest)
#include "test_route_health.moc"
