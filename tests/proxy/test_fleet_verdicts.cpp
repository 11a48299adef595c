// The fleet's breaker verdicts through a real redis-server (CONTRACT §5): three Engines in this process share
// simulated providers; a trip on one refuses on the others, the fleet's window trips on calls spread over the
// replicas, one probe goes out for the whole fleet, a dead probe holder blocks nothing, and a late replica adopts
// what the fleet decided. No timing targets here (scripts/bench fleet measures those).
#include "FleetRig.h"
#include "ProxyRig.h"
#include "SimRequests.h"
#include "breaker/CircuitBreaker.h"

#include <QtTest>

#include <atomic>
#include <thread>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

// alpha opens after 3 failures in a row; "rated" only by the fleet's failure rate (min_calls 6).
const char* kConfig = R"({
  "breaker": {"consecutive_failures": 3, "failure_rate": 0, "open_s": 2, "max_open_s": 8, "jitter": 0},
  "providers": [
    {"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key",
     "timeouts_ms": {"first_byte": 2500, "idle": 2500}},
    {"id": "beta", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key"},
    {"id": "rated", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key",
     "breaker": {"consecutive_failures": 0, "failure_rate": 0.5, "min_calls": 6, "open_s": 30, "max_open_s": 60}},
    {"id": "longopen", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key",
     "breaker": {"open_s": 60, "max_open_s": 60}}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "alpha"}, {"provider": "beta"}]},
    {"name": "solo", "targets": [{"provider": "alpha"}]},
    {"name": "rated", "targets": [{"provider": "rated"}]},
    {"name": "longopen", "targets": [{"provider": "longopen"}]}
  ],
  "redis": {"url": "${REDIS_URL}", "prefix": "fleettest", "replica_id": "${REPLICA}"}
})";

HttpReply chat(FleetRig& rig, int replica, const std::string& model) {
    return rig.client(replica).post("/v1/chat/completions", chatRequest("hi", false, model).dump());
}

BreakerState stateOf(FleetRig& rig, int replica, const char* provider) {
    return rig.engine(replica).breaker(provider)->state();
}

bool joined(FleetRig& rig, int replicas) {
    for (int i = 0; i < replicas; ++i)
        if (rig.running(i) && rig.engine(i).snapshot().fleet.redis != RedisLink::Connected) return false;
    return true;
}

json adminState(FleetRig& rig, int replica) {
    auto reply = rig.client(replica).get("/admin/v1/state");
    return json::parse(reply.body, nullptr, false);
}

const json* providerIn(const json& state, const std::string& id) {
    if (!state.is_object() || !state.contains("providers")) return nullptr;
    for (const auto& p : state["providers"])
        if (p.value("id", "") == id) return &p;
    return nullptr;
}

} // namespace

class FleetVerdictsTest : public QObject {
    Q_OBJECT
    std::unique_ptr<FleetRig> rig;

    void start(int replicas, int running = -1) {
        rig = std::make_unique<FleetRig>(kConfig, replicas, running);
        QVERIFY2(rig->ok(), rig->error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(joined(*rig, replicas), 10000);
    }

    void tripAlphaOn(int replica) {
        rig->sim(0).setFault(sim::Fault::httpError(503));
        for (int i = 0; i < 3; ++i) QCOMPARE(chat(*rig, replica, "solo").status, 503);
        QCOMPARE(stateOf(*rig, replica, "alpha"), BreakerState::Open);
    }

private slots:
    void cleanup() { rig.reset(); }

    void aTripOnOneReplicaRefusesOnTheOthers() {
        start(3);
        tripAlphaOn(0);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 1, "alpha"), BreakerState::Open, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 2, "alpha"), BreakerState::Open, 10000);

        const uint64_t before = rig->sim(0).stats().requests;
        for (int replica : {1, 2}) {
            auto reply = chat(*rig, replica, "default");
            QCOMPARE(reply.status, 200);
            QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
            QCOMPARE(chat(*rig, replica, "solo").status, 503);
        }
        QCOMPARE(rig->sim(0).stats().requests, before); // refused with no network call, never having failed here

        // The reason and the state say where the verdict came from; the tripping replica calls it its own.
        const auto b1 = rig->engine(1).breaker("alpha")->snapshot();
        QCOMPARE(b1.originReplica, std::string("r0"));
        QVERIFY2(b1.reason.starts_with("3 consecutive failures"), b1.reason.c_str());
        QVERIFY2(b1.reason.ends_with("[replica r0]"), b1.reason.c_str());
        const json s1 = adminState(*rig, 1);
        const json* alpha1 = providerIn(s1, "alpha");
        QVERIFY(alpha1 != nullptr);
        QCOMPARE((*alpha1)["origin"].get<std::string>(), std::string("fleet"));
        QCOMPARE((*alpha1)["origin_replica"].get<std::string>(), std::string("r0"));
        const json s0 = adminState(*rig, 0);
        const json* alpha0 = providerIn(s0, "alpha");
        QVERIFY(alpha0 != nullptr);
        QCOMPARE((*alpha0)["origin"].get<std::string>(), std::string("local"));
        QVERIFY((*alpha0)["origin_replica"].is_null());

        // The applied transition is an event naming the replica it came from.
        bool named = false;
        for (const auto& e : rig->engine(2).events().history())
            named = named || (e.type == EventType::Breaker && e.provider == "alpha" && e.to == "open" && e.replica == "r0");
        QVERIFY(named);
    }

    void theFleetsWindowTripsOnCallsSpreadOverReplicas() {
        start(3);
        rig->sim(1).setFault(sim::Fault::httpError(500));
        // Two failures each: no replica alone has min_calls (6), the fleet has.
        for (int replica : {0, 1, 2})
            for (int i = 0; i < 2; ++i) QCOMPARE(chat(*rig, replica, "rated").status, 503);
        for (int replica : {0, 1, 2}) QCOMPARE(stateOf(*rig, replica, "rated"), BreakerState::Closed);
        // Once every replica's counts are in Redis, the next failure on replica 0 is judged on the fleet's calls.
        QTRY_COMPARE_WITH_TIMEOUT(rig->engine(0).breaker("rated")->snapshot().fleetWindow.failures, 4u, 10000);
        QCOMPARE(chat(*rig, 0, "rated").status, 503);
        QCOMPARE(stateOf(*rig, 0, "rated"), BreakerState::Open);
        // Alone, replica 0 would need 6 calls of its own; it tripped with fewer.
        QVERIFY(rig->engine(0).breaker("rated")->snapshot().window.calls < 6);
        const std::string reason = rig->engine(0).breaker("rated")->reason();
        QVERIFY2(reason.find("failure rate 100%") != std::string::npos, reason.c_str());
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 2, "rated"), BreakerState::Open, 10000);
    }

    void exactlyOneProbeInTheWholeFleet() {
        start(3);
        tripAlphaOn(0);
        for (int replica : {1, 2}) QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, replica, "alpha"), BreakerState::Open, 10000);
        // The provider is back, but slow: the probe stays in flight while every replica takes traffic.
        rig->sim(0).setFault(sim::Fault::slow(Millis{1200}));
        const uint64_t before = rig->sim(0).stats().requests;
        std::atomic<bool> stop{false};
        std::atomic<int> failed{0};
        std::vector<std::thread> traffic;
        for (int replica : {0, 1, 2})
            traffic.emplace_back([&, replica] {
                SimHttpClient client(rig->port(replica), std::chrono::seconds(10));
                while (!stop) {
                    auto reply = client.post("/v1/chat/completions", chatRequest("hi", false, "default").dump());
                    if (reply.status != 200) ++failed; // beta answers whatever alpha does
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
            });
        // Until the first replica closes, only the probe may have reached alpha.
        uint64_t probesSeen = 0;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        bool closed = false;
        while (std::chrono::steady_clock::now() < deadline) {
            const uint64_t seen = rig->sim(0).stats().requests - before;
            closed = stateOf(*rig, 0, "alpha") == BreakerState::Closed || stateOf(*rig, 1, "alpha") == BreakerState::Closed ||
                     stateOf(*rig, 2, "alpha") == BreakerState::Closed;
            if (closed) break;
            probesSeen = seen;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        QVERIFY(closed);
        QCOMPARE(probesSeen, uint64_t{1});
        // Its success closes the breaker everywhere.
        for (int replica : {0, 1, 2}) QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, replica, "alpha"), BreakerState::Closed, 10000);
        stop = true;
        for (auto& t : traffic) t.join();
        QCOMPARE(failed.load(), 0);
    }

    void aProbeHolderThatDiesBlocksNothing() {
        start(3);
        tripAlphaOn(0);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 1, "alpha"), BreakerState::Open, 10000);
        rig->sim(0).setFault(sim::Fault::hang());
        const uint64_t before = rig->sim(0).stats().requests;
        // Replica 0 alone takes traffic until its probe is in flight (hanging)...
        std::thread prober([&] {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (rig->sim(0).stats().requests == before && std::chrono::steady_clock::now() < deadline) {
                SimHttpClient client(rig->port(0), std::chrono::milliseconds(300));
                client.post("/v1/chat/completions", chatRequest("hi", false, "solo").dump());
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
        QTRY_VERIFY_WITH_TIMEOUT(rig->sim(0).stats().requests > before, 20000);
        prober.join();
        QCOMPARE(rig->sim(0).stats().requests, before + 1);
        // ... and dies with it. Its lease expires (first_byte, 2.5 s) and another replica probes.
        rig->stopReplica(0);
        rig->sim(0).clearFault();
        QTRY_VERIFY_WITH_TIMEOUT((chat(*rig, 1, "solo"), chat(*rig, 2, "solo"),
                                  stateOf(*rig, 1, "alpha") == BreakerState::Closed), 20000);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 2, "alpha"), BreakerState::Closed, 10000);
    }

    void aReplicaStartingLaterAdoptsTheFleetsVerdicts() {
        start(3, 2);
        rig->sim(0).setFault(sim::Fault::httpError(503));
        for (int i = 0; i < 5; ++i) chat(*rig, 1, "longopen");
        QCOMPARE(stateOf(*rig, 1, "longopen"), BreakerState::Open);
        QVERIFY(rig->startReplica(2));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(*rig, 2, "longopen"), BreakerState::Open, 10000);
        QCOMPARE(rig->engine(2).breaker("longopen")->snapshot().originReplica, std::string("r1"));
        const auto retry = rig->engine(2).breaker("longopen")->snapshot().retryAfterS;
        QVERIFY(retry && *retry > 30 && *retry <= 60); // the fleet's open period, not a new one
    }

    void stateShowsTheFleetAndMetricsCountIt() {
        start(3);
        QTRY_VERIFY_WITH_TIMEOUT(adminState(*rig, 0)["fleet"]["replicas"].size() == 3, 10000);
        const json fleet = adminState(*rig, 0)["fleet"];
        QCOMPARE(fleet["enabled"].get<bool>(), true);
        QCOMPARE(fleet["redis"].get<std::string>(), std::string("connected"));
        QCOMPARE(fleet["replica"].get<std::string>(), std::string("r0"));
        std::vector<std::string> ids;
        for (const auto& r : fleet["replicas"]) {
            ids.push_back(r["id"].get<std::string>());
            QVERIFY(r["listen"].get<std::string>().starts_with("http://127.0.0.1:"));
            QCOMPARE(r["version"].get<std::string>(), std::string(FUSEBOX_VERSION));
            QVERIFY(r["last_seen_s"].get<double>() < 30);
        }
        QCOMPARE(ids, (std::vector<std::string>{"r0", "r1", "r2"}));
        QTRY_VERIFY_WITH_TIMEOUT(rig->client(1).get("/metrics").body.find("fusebox_fleet_replicas 3\n") != std::string::npos, 10000);
        const std::string metrics = rig->client(1).get("/metrics").body;
        QVERIFY2(metrics.find("fusebox_fleet_redis_up 1\n") != std::string::npos, metrics.c_str());
        QVERIFY(metrics.find("fusebox_fleet_sync_delay_seconds_count") != std::string::npos);
        // The password and the URL's secrets are nowhere; the keys live under the prefix and expire.
        const auto keys = rig->redis().command({"KEYS", "*"});
        QVERIFY(keys.has_value());
        for (const auto& key : QString::fromStdString(*keys).split('\n', Qt::SkipEmptyParts)) {
            QVERIFY2(key.startsWith("fleettest:"), qPrintable(key));
            const auto ttl = rig->redis().command({"PTTL", key.toStdString()});
            QVERIFY2(ttl && std::stoll(*ttl) > 0, qPrintable(key)); // every key expires
        }
    }

    void withoutRedisTheFleetIsOff() {
        ProxyRig single(R"({"providers": [{"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"}],
                            "routes": [{"name": "default", "targets": [{"provider": "alpha"}]}]})");
        QVERIFY2(single.ok(), single.error().c_str());
        const json state = json::parse(single.client().get("/admin/v1/state").body, nullptr, false);
        QCOMPARE(state["fleet"]["enabled"].get<bool>(), false);
        QCOMPARE(state["fleet"]["redis"].get<std::string>(), std::string("off"));
        QVERIFY(!state["fleet"]["replica"].get<std::string>().empty()); // HOSTNAME:PORT
        QVERIFY(state["fleet"]["replicas"].empty());
        QCOMPARE((*providerIn(state, "alpha"))["origin"].get<std::string>(), std::string("local"));
        const std::string metrics = single.client().get("/metrics").body;
        QVERIFY(metrics.find("fusebox_fleet_redis_up 0\n") != std::string::npos);
        // Half-open probes are local as before: no gate without a fleet.
        single.engine().forceOpen("alpha", "x");
        single.engine().reset("alpha", "y");
        QCOMPARE(single.engine().breaker("alpha")->state(), BreakerState::Closed);
        QCOMPARE(single.client().post("/v1/chat/completions", chatRequest("hi", false, "default").dump()).status, 200);
    }
};

QTEST_GUILESS_MAIN(FleetVerdictsTest)
#include "test_fleet_verdicts.moc"
