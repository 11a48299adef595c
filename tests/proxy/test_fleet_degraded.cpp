// Degraded mode (issue 12, CONTRACT §5 "When Redis is unavailable"): three replicas in this process, a real
// redis-server, shared sims, a TcpRelay between each replica and Redis. Redis down at start, killed -9 under
// load, hung (SIGSTOP), restarted empty, one replica cut off, an operator command given during an outage. In
// every one: client traffic runs the whole time and not one request fails, the replicas go on with their own
// breakers and the last fleet verdict, they rejoin when Redis answers again, and each logs one line per
// change, never one per request.
//
// No timing targets: every wait is a generous QTRY; "rejoins within 5 s" is the benchmark's figure, not a
// test's.
#include "ClientLoad.h"
#include "RelayedFleet.h"
#include "SimRequests.h"
#include "StderrCapture.h"
#include "TestSupport.h"

#include <QtTest>

#include <fstream>

using namespace fusebox;
using namespace fusebox::test;

namespace {

// `steady` (sim 1) carries the client load and never fails; `flaky` (sim 0) is the one the tests trip;
// `quick` (sim 0 too) opens for a second only, for recovery.
const char* kConfig = R"({
  "data_dir": "${DATA}",
  "breaker": {"consecutive_failures": 3, "failure_rate": 0, "open_s": 60, "max_open_s": 120, "jitter": 0},
  "providers": [
    {"id": "steady", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key"},
    {"id": "flaky", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key",
     "timeouts_ms": {"first_byte": 2000}},
    {"id": "quick", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key",
     "breaker": {"open_s": 1, "max_open_s": 2}}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "steady"}]},
    {"name": "flaky", "targets": [{"provider": "flaky"}]},
    {"name": "quick", "targets": [{"provider": "quick"}]}
  ],
  "redis": {"url": "${REDIS}", "prefix": "${PREFIX}", "replica_id": "${REPLICA}"}
})";

// ms: joining, rejoining, noticing a dead or hung Redis (all far shorter in fact)
constexpr int kJoin = 20000;
constexpr int kPropagate = 10000; // ms: a verdict reaching another replica (the target is 200 ms)

std::vector<uint16_t> ports(RelayedFleet& rig) {
    std::vector<uint16_t> out;
    for (int i = 0; i < rig.replicas(); ++i)
        out.push_back(rig.port(i));
    return out;
}

// Lets the load run on until `more` further requests were answered (or failed): traffic during the state at
// hand.
bool runLoad(ClientLoad& load, int more) {
    const int until = load.total() + more;
    QDeadlineTimer deadline(30000);
    while (load.total() < until && !deadline.hasExpired())
        QTest::qWait(20);
    return load.total() >= until;
}

bool sendsAreOpen(RelayedFleet& rig, int i, const std::string& provider) {
    const BreakerState s = rig.state(i, provider);
    return s == BreakerState::Open || s == BreakerState::ForcedOpen;
}

} // namespace

class FleetDegradedTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string m_logPath;
    std::unique_ptr<StderrCapture> m_capture;

    // The fleet's log lines so far ("fleet: ..."), and how many contain `text`.
    std::vector<std::string> fleetLines() {
        std::fflush(stderr);
        std::vector<std::string> lines;
        std::ifstream in(m_logPath);
        for (std::string line; std::getline(in, line);)
            if (line.find("fleet: ") != std::string::npos) lines.push_back(line);
        return lines;
    }
    int linesWith(const std::string& text) {
        int n = 0;
        for (const auto& l : fleetLines())
            n += l.find(text) != std::string::npos;
        return n;
    }
    std::string dumpLines() {
        std::string out;
        for (const auto& l : fleetLines())
            out += "\n  " + l;
        return out;
    }

    // Replica i trips `flaky` with real failures (sim 0 answers 503), three in a row.
    void tripFlakyOn(RelayedFleet& rig, int i) {
        rig.sim(0).setFault(sim::Fault::httpError(503));
        auto client = rig.client(i);
        for (int n = 0; n < 3; ++n)
            QCOMPARE(client.post("/v1/chat/completions", chatRequest("hi", false, "flaky").dump()).status,
                     503);
        QCOMPARE(rig.state(i, "flaky"), BreakerState::Open);
    }

    // One line per change: each replica said "unavailable" exactly `outages` times and "connected" `joins`
    // times, however many requests it served meanwhile.
    void checkOneLinePerChange(const ClientLoad& load, int replicas, int outages, int joins) {
        // Enough requests for a line per request to show.
        QVERIFY2(load.total() > 300, load.summary().c_str());
        for (int r = 1; r <= replicas; ++r) {
            const std::string who = "replica=r" + std::to_string(r);
            int unavailable = 0, connected = 0;
            for (const auto& l : fleetLines()) {
                if (l.find(who) == std::string::npos &&
                    l.find("replica r" + std::to_string(r)) == std::string::npos)
                    continue;
                unavailable += l.find("unavailable") != std::string::npos;
                connected += l.find("connected to Redis") != std::string::npos;
            }
            QVERIFY2(unavailable == outages, (who + dumpLines()).c_str());
            QVERIFY2(connected == joins, (who + dumpLines()).c_str());
        }
        // Nothing else repeats either: a handful of lines per replica and change, never hundreds.
        QVERIFY2(static_cast<int>(fleetLines().size()) <= replicas * (outages + joins) * 2,
                 dumpLines().c_str());
    }

  private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        m_logPath = m_dir.filePath(QTest::currentTestFunction()).toStdString() + ".log";
        m_capture = std::make_unique<StderrCapture>(m_logPath);
    }
    void cleanup() { m_capture.reset(); }

    void redisDownAtStartServesAtOnceAndJoinsWhenItAnswers() {
        RelayedFleet::Options options;
        options.startRedis = false;
        options.viaRelay = false; // a dead port: connects are refused
        RelayedFleet rig(kConfig, options);
        QVERIFY2(rig.ok(), rig.error().c_str());
        // Serving at once, without waiting for Redis.
        for (int i = 0; i < rig.replicas(); ++i)
            QCOMPARE(rig.client(i).post("/v1/chat/completions", chatRequest().dump()).status, 200);
        ClientLoad load(ports(rig));
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Degraded), kJoin);
        QVERIFY(runLoad(load, 300));
        // Local breakers work meanwhile: a trip on r1 stays r1's.
        tripFlakyOn(rig, 0);
        if (QTest::currentTestFailed()) return;
        QCOMPARE(rig.state(1, "flaky"), BreakerState::Closed);

        QVERIFY2(rig.redis().start(), rig.redis().error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        // Having joined, r1 published what it knew: its open breaker reaches the others.
        QTRY_VERIFY_WITH_TIMEOUT(sendsAreOpen(rig, 1, "flaky") && sendsAreOpen(rig, 2, "flaky"), kPropagate);
        QCOMPARE(rig.origin(1, "flaky"), std::string("r1"));
        QVERIFY(runLoad(load, 100));
        load.stop();
        QVERIFY2(load.failed() == 0, load.summary().c_str());
        checkOneLinePerChange(load, 3, 1, 1);
    }

    void redisKilledUnderLoadFailsNoRequest() {
        RelayedFleet rig(kConfig);
        QVERIFY2(rig.ok(), rig.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        ClientLoad load(ports(rig));
        tripFlakyOn(rig, 0);
        if (QTest::currentTestFailed()) return;
        QTRY_VERIFY_WITH_TIMEOUT(sendsAreOpen(rig, 1, "flaky") && sendsAreOpen(rig, 2, "flaky"), kPropagate);
        QVERIFY(runLoad(load, 100));

        rig.redis().kill();
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Degraded), kJoin);
        QVERIFY(runLoad(load, 300));
        // The last fleet verdict holds until its end (60 s away): r2 and r3 still refuse flaky.
        QVERIFY(sendsAreOpen(rig, 1, "flaky") && sendsAreOpen(rig, 2, "flaky"));
        QCOMPARE(rig.client(1).post("/v1/chat/completions", chatRequest("hi", false, "flaky").dump()).status,
                 503);

        QVERIFY2(rig.redis().start(), rig.redis().error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        QVERIFY(runLoad(load, 100));
        load.stop();
        QVERIFY2(load.failed() == 0, load.summary().c_str());
        checkOneLinePerChange(load, 3, 1, 2);
    }

    void redisHungThenResumedFailsNoRequest() {
        RelayedFleet rig(kConfig);
        QVERIFY2(rig.ok(), rig.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        ClientLoad load(ports(rig));
        QVERIFY(runLoad(load, 100));

        rig.redis().freeze(); // connections stay open; nothing answers
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Degraded), kJoin);
        QVERIFY(runLoad(load, 300));
        // An operator command while it hangs applies here at once.
        QVERIFY(rig.engine(2).forceOpen("flaky", "hung drill").ok);
        QCOMPARE(rig.state(2, "flaky"), BreakerState::ForcedOpen);

        rig.redis().thaw();
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        QTRY_VERIFY_WITH_TIMEOUT(rig.state(0, "flaky") == BreakerState::ForcedOpen &&
                                     rig.state(1, "flaky") == BreakerState::ForcedOpen,
                                 kPropagate);
        QVERIFY(runLoad(load, 100));
        load.stop();
        QVERIFY2(load.failed() == 0, load.summary().c_str());
        checkOneLinePerChange(load, 3, 1, 2);
    }

    void redisRestartedEmptyIsSeededAgain() {
        RelayedFleet rig(kConfig);
        QVERIFY2(rig.ok(), rig.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        const std::vector<std::string> epochKey = {"GET", "fleet-test:epoch"};
        QTRY_VERIFY_WITH_TIMEOUT(rig.redis().command(epochKey).value_or("(nil)") != "(nil)", kJoin);
        const std::string epochBefore = *rig.redis().command(epochKey);
        ClientLoad load(ports(rig));
        tripFlakyOn(rig, 0);
        if (QTest::currentTestFailed()) return;
        QTRY_VERIFY_WITH_TIMEOUT(sendsAreOpen(rig, 1, "flaky") && sendsAreOpen(rig, 2, "flaky"), kPropagate);

        QVERIFY2(rig.redis().restartEmpty(), rig.redis().error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        // A new epoch, and the fleet's verdict is back in Redis: a replica that joins now adopts it from
        // there.
        QTRY_VERIFY_WITH_TIMEOUT(rig.redis().command(epochKey).value_or("(nil)") != "(nil)", kJoin);
        QVERIFY(*rig.redis().command(epochKey) != epochBefore);
        QVERIFY2(rig.addReplica(), rig.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.link(3) == RedisLink::Connected, kJoin);
        QTRY_VERIFY_WITH_TIMEOUT(sendsAreOpen(rig, 3, "flaky"), kPropagate);
        QCOMPARE(rig.origin(3, "flaky"), std::string("r1"));
        QVERIFY(runLoad(load, 300));
        load.stop();
        QVERIFY2(load.failed() == 0, load.summary().c_str());
        QVERIFY2(linesWith("seeding it again") + linesWith("lost its data") >= 1, dumpLines().c_str());
        QVERIFY2(static_cast<int>(fleetLines().size()) <= 4 * 4, dumpLines().c_str());
    }

    void partitionedReplicaGoesOnAloneAndRejoins() {
        RelayedFleet rig(kConfig);
        QVERIFY2(rig.ok(), rig.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        ClientLoad load(ports(rig));

        rig.relay(2).blackHole(); // r3 alone loses Redis: its bytes go nowhere, nothing answers
        QTRY_VERIFY_WITH_TIMEOUT(rig.link(2) == RedisLink::Degraded, kJoin);
        QCOMPARE(rig.link(0), RedisLink::Connected);
        QCOMPARE(rig.link(1), RedisLink::Connected);
        tripFlakyOn(rig, 0);
        if (QTest::currentTestFailed()) return;
        QTRY_VERIFY_WITH_TIMEOUT(sendsAreOpen(rig, 1, "flaky"), kPropagate);
        QCOMPARE(rig.state(2, "flaky"), BreakerState::Closed); // cut off: it cannot know
        QVERIFY(runLoad(load, 300));

        rig.relay(2).pass();
        QTRY_VERIFY_WITH_TIMEOUT(rig.link(2) == RedisLink::Connected, kJoin);
        // Pub/sub dropped the verdict while r3 was away; the snapshot brings it.
        QTRY_VERIFY_WITH_TIMEOUT(sendsAreOpen(rig, 2, "flaky"), kPropagate);
        QCOMPARE(rig.origin(2, "flaky"), std::string("r1"));

        // A cut (every connection closed at once) is a shorter outage of the same kind.
        rig.relay(1).cut();
        QTRY_VERIFY_WITH_TIMEOUT(rig.link(1) == RedisLink::Degraded, kJoin);
        QVERIFY(runLoad(load, 100));
        rig.relay(1).pass();
        QTRY_VERIFY_WITH_TIMEOUT(rig.link(1) == RedisLink::Connected, kJoin);
        QVERIFY(runLoad(load, 100));
        load.stop();
        QVERIFY2(load.failed() == 0, load.summary().c_str());
        QVERIFY2(linesWith("unavailable") == 2, dumpLines().c_str()); // r3 once, r2 once; r1 never
    }

    void slowRedisCostsNoRequest() {
        RelayedFleet rig(kConfig);
        QVERIFY2(rig.ok(), rig.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        ClientLoad load(ports(rig));
        for (int i = 0; i < rig.replicas(); ++i)
            rig.relay(i).delay(std::chrono::milliseconds(150));
        QVERIFY(runLoad(load, 300));
        QVERIFY(rig.engine(0).forceOpen("flaky", "slow drill").ok);
        QTRY_VERIFY_WITH_TIMEOUT(rig.state(1, "flaky") == BreakerState::ForcedOpen &&
                                     rig.state(2, "flaky") == BreakerState::ForcedOpen,
                                 kPropagate);
        for (int i = 0; i < rig.replicas(); ++i)
            rig.relay(i).pass();
        QVERIFY(runLoad(load, 100));
        load.stop();
        QVERIFY2(load.failed() == 0, load.summary().c_str());
    }

    // Slower than the sync's command timeout: every reconnect connects, then times out. That is one outage
    // and one log line however many retries it takes, not a line (or a request held up) per retry.
    void verySlowRedisIsOneOutageOfOneLine() {
        RelayedFleet rig(kConfig);
        QVERIFY2(rig.ok(), rig.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        ClientLoad load(ports(rig));
        rig.relay(0).delay(std::chrono::milliseconds(2500));
        QTRY_VERIFY_WITH_TIMEOUT(rig.link(0) == RedisLink::Degraded, kJoin);
        const int accepted = rig.relay(0).connectionsAccepted();
        QTRY_VERIFY_WITH_TIMEOUT(rig.relay(0).connectionsAccepted() >= accepted + 4,
                                 30000); // it kept retrying
        QCOMPARE(rig.link(0), RedisLink::Degraded);
        QCOMPARE(rig.link(1), RedisLink::Connected);
        rig.relay(0).pass();
        QTRY_VERIFY_WITH_TIMEOUT(rig.link(0) == RedisLink::Connected, kJoin);
        QVERIFY(runLoad(load, 100));
        load.stop();
        QVERIFY2(load.failed() == 0, load.summary().c_str());
        QVERIFY2(linesWith("unavailable") == 1, dumpLines().c_str());
        QVERIFY2(linesWith("connected to Redis") == 4, dumpLines().c_str());
    }

    // A fleet verdict seen before Redis died ends on time, and each replica then probes and recovers on its
    // own: the fleet's one-probe lease is not needed (nor waited for) while Redis is away.
    void recoveryWhileRedisIsDownNeedsNoLease() {
        RelayedFleet rig(kConfig);
        QVERIFY2(rig.ok(), rig.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        ClientLoad load(ports(rig));
        rig.sim(0).setFault(sim::Fault::httpError(503));
        const std::string quick = chatRequest("hi", false, "quick").dump();
        {
            auto client = rig.client(0);
            for (int n = 0; n < 3; ++n)
                QCOMPARE(client.post("/v1/chat/completions", quick).status, 503);
        }
        QTRY_VERIFY_WITH_TIMEOUT(sendsAreOpen(rig, 1, "quick") && sendsAreOpen(rig, 2, "quick"), kPropagate);
        rig.redis().kill();
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Degraded), kJoin);
        rig.sim(0).clearFault();
        for (int i = 0; i < rig.replicas(); ++i) {
            auto client = rig.client(i);
            QTRY_COMPARE_WITH_TIMEOUT(client.post("/v1/chat/completions", quick).status, 200, kJoin);
            QCOMPARE(rig.state(i, "quick"), BreakerState::Closed);
        }
        QVERIFY(runLoad(load, 100));
        load.stop();
        QVERIFY2(load.failed() == 0, load.summary().c_str());
    }

    void operatorCommandDuringOutageReachesTheFleetWhenRedisReturns() {
        RelayedFleet rig(kConfig);
        QVERIFY2(rig.ok(), rig.error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        ClientLoad load(ports(rig));
        rig.redis().kill();
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Degraded), kJoin);

        const CommandResult result = rig.engine(0).forceOpen("flaky", "outage drill");
        QVERIFY2(result.ok, result.error.c_str());
        QCOMPARE(rig.state(0, "flaky"), BreakerState::ForcedOpen); // here, at once
        QCOMPARE(rig.client(0).post("/v1/chat/completions", chatRequest("hi", false, "flaky").dump()).status,
                 503);
        QVERIFY(runLoad(load, 300));
        QCOMPARE(rig.state(1, "flaky"), BreakerState::Closed); // the others cannot know yet

        QVERIFY2(rig.redis().start(), rig.redis().error().c_str());
        QTRY_VERIFY_WITH_TIMEOUT(rig.allLinks(RedisLink::Connected), kJoin);
        QTRY_VERIFY_WITH_TIMEOUT(rig.state(1, "flaky") == BreakerState::ForcedOpen &&
                                     rig.state(2, "flaky") == BreakerState::ForcedOpen,
                                 kPropagate);
        QCOMPARE(rig.origin(1, "flaky"), std::string("r1"));
        QVERIFY(runLoad(load, 100));
        load.stop();
        QVERIFY2(load.failed() == 0, load.summary().c_str());
        checkOneLinePerChange(load, 3, 1, 2);
    }
};

QTEST_GUILESS_MAIN(FleetDegradedTest)
#include "test_fleet_degraded.moc"
