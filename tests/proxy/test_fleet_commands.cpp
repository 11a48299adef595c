// Operator commands, route orders and daily budgets across a fleet (CONTRACT §5) through a real redis-server:
// what an operator does on any replica reaches the others, and events name the replica it came from.
#include "FleetRig.h"
#include "SimRequests.h"
#include "TestSupport.h"
#include "breaker/CircuitBreaker.h"

#include <QtTest>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

const char* kConfig = R"({
  "breaker": {"consecutive_failures": 3, "failure_rate": 0, "open_s": 2, "jitter": 0},
  "prices_file": "${PRICES}",
  "providers": [
    {"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"},
    {"id": "beta", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key"},
    {"id": "capped", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key", "budget_usd_per_day": 0.0000001}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "alpha"}, {"provider": "beta"}]},
    {"name": "capped", "targets": [{"provider": "capped", "model": "gpt-sim"}]}
  ],
  "redis": {"url": "${REDIS_URL}", "prefix": "cmdtest", "replica_id": "${REPLICA}"}
})";

const char* kPrices = R"({"models": {"gpt-sim": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}}})";

BreakerState stateOf(FleetRig& rig, int replica, const char* provider) {
    return rig.engine(replica).breaker(provider)->state();
}

bool joined(FleetRig& rig, int replicas) {
    for (int i = 0; i < replicas; ++i)
        if (rig.running(i) && rig.engine(i).snapshot().fleet.redis != RedisLink::Connected) return false;
    return true;
}

std::vector<std::string> order(FleetRig& rig, int replica, const std::string& route) {
    std::vector<std::string> providers;
    for (const auto& r : rig.engine(replica).snapshot().routes)
        if (r.name == route)
            for (const auto& t : r.targets) providers.push_back(t.provider);
    return providers;
}

bool hasEvent(FleetRig& rig, int replica, EventType type, const std::string& action, const std::string& from) {
    for (const auto& e : rig.engine(replica).events().history())
        if (e.type == type && (action.empty() || e.action == action) && e.replica == from) return true;
    return false;
}

} // namespace

class FleetCommandsTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir;
    std::unique_ptr<FleetRig> rig;

    void start(int replicas, int running = -1) {
        rig = std::make_unique<FleetRig>(kConfig, replicas, 0);
        QVERIFY2(rig->ok(), rig->error().c_str());
        rig->setVariable("PRICES", writeTempFile(dir, "prices.json", kPrices));
        for (int i = 0; i < (running < 0 ? replicas : running); ++i) QVERIFY2(rig->startReplica(i), rig->error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(joined(*rig, replicas), 10000);
    }

private slots:
    void cleanup() { rig.reset(); }

    void operatorCommandsFromAnyReplicaReachEveryReplica() {
        start(3);
        QVERIFY(rig->engine(1).forceOpen("alpha", "maintenance window").ok);
        for (int replica : {0, 2}) QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, replica, "alpha"), BreakerState::ForcedOpen, 10000);
        QVERIFY(hasEvent(*rig, 0, EventType::Operator, "force_open", "r1"));
        const std::string reason = rig->engine(2).breaker("alpha")->reason();
        QVERIFY2(reason.find("maintenance window") != std::string::npos && reason.ends_with("[replica r1]"), reason.c_str());
        // Refused everywhere, with no network call.
        const uint64_t before = rig->sim(0).stats().requests;
        auto reply = rig->client(2).post("/v1/chat/completions", chatRequest("hi", false, "default").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QCOMPARE(rig->sim(0).stats().requests, before);

        QVERIFY(rig->engine(2).forceClose("alpha", "trust me").ok);
        for (int replica : {0, 1}) QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, replica, "alpha"), BreakerState::ForcedClosed, 10000);
        QVERIFY(hasEvent(*rig, 1, EventType::Operator, "force_close", "r2"));

        QVERIFY(rig->engine(0).reset("alpha", "back to normal").ok);
        for (int replica : {1, 2}) QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, replica, "alpha"), BreakerState::Closed, 10000);
        QVERIFY(hasEvent(*rig, 2, EventType::Operator, "reset", "r0"));
        // The replica where a command was given publishes it once: no echo comes back as a second event.
        int resets = 0;
        for (const auto& e : rig->engine(0).events().history())
            if (e.type == EventType::Operator && e.action == "reset") ++resets;
        QCOMPARE(resets, 1);
    }

    void aStaleMessageNeverUndoesANewerVerdict() {
        start(2);
        QVERIFY(rig->engine(1).forceOpen("alpha", "newer").ok);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 0, "alpha"), BreakerState::ForcedOpen, 10000);
        // A message of an older generation (delayed, replayed, or from a replica that missed the newer one).
        const json stale = {{"provider", "alpha"}, {"state", "closed"}, {"gen", 1}, {"origin", "r9"},
                            {"reason", "stale verdict"}, {"action", "reset"}, {"at_ms", 0}, {"instance", "elsewhere"}};
        QVERIFY(rig->redis().command({"PUBLISH", "cmdtest:events", json{{"kind", "verdict"}, {"body", stale.dump()}}.dump()}));
        // Messages on the channel arrive in order: once a later command is applied, the stale one was read.
        QVERIFY(rig->engine(1).forceClose("alpha", "later").ok);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 0, "alpha"), BreakerState::ForcedClosed, 10000);
        for (const auto& e : rig->engine(0).events().history())
            QVERIFY2(e.reason.find("stale verdict") == std::string::npos, e.reason.c_str());
    }

    void aCommandGivenWhileRedisIsDownIsPublishedOnRejoin() {
        start(2);
        rig->redis().kill();
        QTRY_COMPARE_WITH_TIMEOUT(rig->engine(0).snapshot().fleet.redis, RedisLink::Degraded, 10000);
        // Applied here at once, serving goes on.
        QCOMPARE(rig->engine(0).forceOpen("alpha", "during the outage").provider->breaker.state, BreakerState::ForcedOpen);
        QCOMPARE(rig->client(0).post("/v1/chat/completions", chatRequest("hi", false, "default").dump()).status, 200);
        QCOMPARE(stateOf(*rig, 1, "alpha"), BreakerState::Closed);
        // Redis comes back empty: the replicas seed it again and the command reaches the other one.
        QVERIFY2(rig->redis().start(), rig->redis().error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(joined(*rig, 2), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 1, "alpha"), BreakerState::ForcedOpen, 10000);
        QVERIFY(hasEvent(*rig, 1, EventType::Operator, "force_open", "r0"));
        QVERIFY(rig->redis().command({"GET", "cmdtest:epoch"}).value_or("(nil)") != "(nil)");
    }

    void aResetAlsoClearsATripEverywhere() {
        start(2);
        rig->sim(0).setFault(sim::Fault::httpError(503));
        for (int i = 0; i < 3; ++i) rig->client(0).post("/v1/chat/completions", chatRequest("hi", false, "alpha/gpt").dump());
        QCOMPARE(stateOf(*rig, 0, "alpha"), BreakerState::Open);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 1, "alpha"), BreakerState::Open, 10000);
        rig->sim(0).clearFault();
        QVERIFY(rig->engine(1).reset("alpha", "fixed upstream").ok);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 0, "alpha"), BreakerState::Closed, 10000);
        QCOMPARE(rig->client(0).post("/v1/chat/completions", chatRequest("hi", false, "alpha/gpt").dump()).status, 200);
    }

    void aRouteReorderReachesEveryReplicaAndLateOnesAdoptIt() {
        start(3, 2);
        QVERIFY(rig->engine(1).setRoute("default", {{"beta", ""}, {"alpha", ""}}, "beta first").ok);
        QTRY_COMPARE_WITH_TIMEOUT(order(*rig, 0, "default"), (std::vector<std::string>{"beta", "alpha"}), 10000);
        QVERIFY(hasEvent(*rig, 0, EventType::Route, "", "r1"));
        auto reply = rig->client(0).post("/v1/chat/completions", chatRequest("hi", false, "default").dump());
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        // A replica that starts later takes the fleet's order, not its config's.
        QVERIFY(rig->startReplica(2));
        QTRY_COMPARE_WITH_TIMEOUT(order(*rig, 2, "default"), (std::vector<std::string>{"beta", "alpha"}), 10000);
        // And the admin API's PUT is the same command.
        auto put = rig->client(2).request(boost::beast::http::verb::put, "/admin/v1/routes/default",
                                         json{{"targets", {{{"provider", "alpha"}}, {{"provider", "beta"}}}}}.dump());
        QCOMPARE(put.status, 200);
        for (int replica : {0, 1}) QTRY_COMPARE_WITH_TIMEOUT(order(*rig, replica, "default"), (std::vector<std::string>{"alpha", "beta"}), 10000);
    }

    void theDailyBudgetCountsTheFleetsSpend() {
        start(2);
        auto first = rig->client(0).post("/v1/chat/completions", chatRequest("hi", false, "capped").dump());
        QCOMPARE(first.status, 200);
        // Replica 1 has spent nothing itself; it learns the fleet's spend and refuses too.
        QTRY_VERIFY_WITH_TIMEOUT(rig->engine(1).snapshot().findProvider("capped")->fleetSpendTodayUsd > 0, 10000);
        QCOMPARE(rig->engine(1).snapshot().findProvider("capped")->spendTodayUsd, 0.0);
        const uint64_t before = rig->sim(1).stats().requests;
        auto refused = rig->client(1).post("/v1/chat/completions", chatRequest("hi", false, "capped").dump());
        QCOMPARE(refused.status, 503);
        QVERIFY2(refused.body.find("daily budget") != std::string::npos, refused.body.c_str());
        QCOMPARE(rig->sim(1).stats().requests, before);
        // A reset on any replica forgives the budget fleet-wide.
        QVERIFY(rig->engine(1).reset("capped", "budget raised").ok);
        QTRY_VERIFY_WITH_TIMEOUT(hasEvent(*rig, 0, EventType::Operator, "reset", "r1"), 10000); // applied there
        QCOMPARE(rig->engine(0).snapshot().findProvider("capped")->fleetSpendTodayUsd, 0.0);
        auto after = rig->client(0).post("/v1/chat/completions", chatRequest("hi", false, "capped").dump());
        QVERIFY2(after.status == 200, after.body.c_str());
    }
};

QTEST_GUILESS_MAIN(FleetCommandsTest)
#include "test_fleet_commands.moc"
