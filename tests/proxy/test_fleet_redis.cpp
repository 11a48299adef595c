// The fleet's Redis plumbing against a real redis-server: the hiredis adapter on Asio, AUTH and SELECT from the
// URL, unix sockets, names resolved before connecting, a frozen server given up on by the timeout, and the sync
// surviving SCRIPT FLUSH (NOSCRIPT) and a password it must never show.
#include "FleetRig.h"
#include "RedisServer.h"
#include "StderrCapture.h"
#include "fleet/RedisConnection.h"

#include <hiredis/hiredis.h>

#include <QtTest>

#include <boost/asio/io_context.hpp>

using namespace fusebox;
using namespace fusebox::fleet;
using namespace fusebox::test;

namespace {

struct Outcome {
    bool done = false;
    std::string error;
};

// Runs `io` until `done` or the deadline.
bool runUntil(boost::asio::io_context& io, const bool& done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) {
        io.run_for(std::chrono::milliseconds(20));
        if (io.stopped()) io.restart();
    }
    return done;
}

Outcome openConnection(boost::asio::io_context& io, RedisConnection& c, const RedisEndpoint& endpoint,
                       const RedisLogin& login) {
    Outcome outcome;
    c.open(endpoint, login, [&](const std::string& error) {
        outcome.done = true;
        outcome.error = error;
    }, [](const std::string&) {});
    runUntil(io, outcome.done);
    return outcome;
}

std::string ask(boost::asio::io_context& io, RedisConnection& c, const std::vector<std::string>& argv) {
    bool done = false;
    std::string text = "(no reply)";
    c.command(argv, [&](const redisReply* reply) {
        done = true;
        if (reply == nullptr) return;
        text = reply->type == REDIS_REPLY_INTEGER ? std::to_string(reply->integer) : replyText(reply);
    });
    runUntil(io, done);
    return text;
}

} // namespace

class FleetRedisTest : public QObject {
    Q_OBJECT
private slots:
    void commandsRunOnAsioWithAuthAndSelect() {
        RedisServer redis({"s3cret", false});
        QVERIFY2(redis.start(), redis.error().c_str());
        boost::asio::io_context io;
        RedisConnection c(io, "test", std::chrono::milliseconds(1000));
        auto opened = openConnection(io, c, {false, "127.0.0.1", redis.port()}, {"", "s3cret", 3});
        QVERIFY2(opened.done && opened.error.empty(), opened.error.c_str());
        QCOMPARE(ask(io, c, {"SET", "k", "v"}), std::string("OK"));
        QCOMPARE(ask(io, c, {"GET", "k"}), std::string("v"));
        // Database 3, not 0: the key is not in db 0.
        QCOMPARE(redis.command({"EXISTS", "k"}).value_or(""), std::string("0"));
        // Many commands in flight at once come back in order.
        int answered = 0;
        for (int i = 0; i < 200; ++i) c.command({"INCR", "n"}, [&, i](const redisReply* r) {
            if (r != nullptr && r->integer == i + 1) ++answered;
        });
        bool all = false;
        c.command({"PING"}, [&](const redisReply*) { all = true; });
        runUntil(io, all);
        QCOMPARE(answered, 200);
        c.close();
        QVERIFY(!c.isOpen());
    }

    void aWrongPasswordIsAnErrorThatDoesNotShowIt() {
        RedisServer redis({"right-one", false});
        QVERIFY2(redis.start(), redis.error().c_str());
        boost::asio::io_context io;
        RedisConnection c(io, "test", std::chrono::milliseconds(1000));
        auto opened = openConnection(io, c, {false, "127.0.0.1", redis.port()}, {"", "wrong-one", 0});
        QVERIFY(opened.done);
        QVERIFY(!opened.error.empty());
        QVERIFY2(opened.error.find("wrong-one") == std::string::npos, opened.error.c_str());
        QVERIFY2(opened.error.find("AUTH") != std::string::npos, opened.error.c_str());
    }

    void unixSocketsAndRefusedConnections() {
        RedisServer redis({"", true});
        QVERIFY2(redis.start(), redis.error().c_str());
        boost::asio::io_context io;
        RedisConnection c(io, "test", std::chrono::milliseconds(1000));
        auto opened = openConnection(io, c, {true, redis.socketPath(), 0}, {});
        QVERIFY2(opened.done && opened.error.empty(), opened.error.c_str());
        QCOMPARE(ask(io, c, {"PING"}), std::string("PONG"));
        c.close();
        const uint16_t port = redis.port();
        redis.kill();
        auto refused = openConnection(io, c, {false, "127.0.0.1", port}, {});
        QVERIFY(refused.done);
        QVERIFY(!refused.error.empty());
    }

    void aFrozenServerIsGivenUpOn() {
        RedisServer redis;
        QVERIFY2(redis.start(), redis.error().c_str());
        boost::asio::io_context io;
        RedisConnection c(io, "test", std::chrono::milliseconds(300));
        std::string lost;
        bool ready = false;
        c.open({false, "127.0.0.1", redis.port()}, {}, [&](const std::string& e) { ready = e.empty(); },
               [&](const std::string& why) { lost = why; });
        QVERIFY(runUntil(io, ready));
        redis.freeze();
        bool replied = false, gotNull = false;
        c.command({"PING"}, [&](const redisReply* r) {
            replied = true;
            gotNull = r == nullptr;
        });
        runUntil(io, replied, std::chrono::seconds(5));
        QVERIFY(replied && gotNull); // the pending command is answered with "gone", not left hanging
        bool reported = false;
        for (int i = 0; i < 50 && !reported; ++i) {
            io.run_for(std::chrono::milliseconds(20));
            if (io.stopped()) io.restart();
            reported = !lost.empty();
        }
        QVERIFY2(lost.find("no answer") != std::string::npos, lost.c_str());
        redis.thaw();
    }

    void theSyncSurvivesScriptFlushAndNamesResolve() {
        // "localhost" is resolved by the fleet before connecting (hiredis would resolve it blocking).
        FleetRig rig(R"({"providers": [{"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"}],
                         "routes": [{"name": "default", "targets": [{"provider": "alpha"}]}],
                         "redis": {"url": "redis:\/\/localhost:${REDIS_PORT}\/0", "prefix": "flush", "replica_id": "${REPLICA}",
                                   "password": "${REDIS_PASSWORD}"}})",
                     1, 0, 1);
        QVERIFY2(rig.ok(), rig.error().c_str());
        rig.setVariable("REDIS_PORT", std::to_string(rig.redis().port()));
        rig.setVariable("REDIS_PASSWORD", ""); // none: the server has no requirepass
        QVERIFY2(rig.startReplica(0), rig.error().c_str());
        QTRY_COMPARE_WITH_TIMEOUT(rig.engine(0).snapshot().fleet.redis, RedisLink::Connected, 10000);
        QCOMPARE(rig.redis().command({"SCRIPT", "FLUSH"}).value_or(""), std::string("OK"));
        QVERIFY(rig.engine(0).forceOpen("alpha", "after a flush").ok);
        QTRY_VERIFY_WITH_TIMEOUT(rig.redis().command({"HGET", "flush:verdicts", "alpha"}).value_or("").find("forced_open") !=
                                     std::string::npos,
                                 10000);
        QCOMPARE(rig.engine(0).snapshot().fleet.redis, RedisLink::Connected);
    }
};

QTEST_GUILESS_MAIN(FleetRedisTest)
#include "test_fleet_redis.moc"
