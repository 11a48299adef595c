// What many clients together may hold: request bodies in flight are budgeted with their parsed JSON
// (limits.max_body_memory_bytes), and connections are capped below the descriptor limit (limits.max_connections).
// Past either, a 503 at once, instead of a process that swells until it is killed or runs out of sockets.
#include "ProxyRig.h"
#include "SimRequests.h"
#include "TestSupport.h"

#include <QtTest>

#include <atomic>
#include <thread>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

class ResourceLimitsTest : public QObject {
    Q_OBJECT

private slots:
    void bodiesInFlightAreBudgeted() {
        // Streams of 30 events 50 ms apart: the first request stays in flight for over a second.
        ProxyRig rig(R"({
          "limits": {"max_body_memory_bytes": 1048576},
          "providers": [{"id": "gpt", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"}],
          "routes": [{"name": "default", "targets": [{"provider": "gpt"}]}]
        })", 1, quickSimOptions(30, Millis{50}));
        QVERIFY2(rig.ok(), rig.error().c_str());
        const std::string big = chatRequest(std::string(700 * 1024, 'a'), true).dump();

        std::atomic<int> firstStatus{0};
        std::atomic<bool> firstStarted{false};
        std::thread first([&] {
            auto client = rig.client();
            auto reply = client.stream("/v1/chat/completions", big, {}, [&](const test::SseEvent&) {
                firstStarted = true;
                return true;
            });
            firstStatus = reply.status;
        });
        QTRY_VERIFY_WITH_TIMEOUT(firstStarted.load(), 5000);
        // Alone, a body over the whole budget is served; beside it, another is refused at once.
        auto second = rig.client().post("/v1/chat/completions", chatRequest(std::string(700 * 1024, 'b')).dump());
        QCOMPARE(second.status, 503);
        QCOMPARE(second.header("retry-after"), std::string("1"));
        QCOMPARE(parseJson(second.body)["error"]["code"], json("fusebox_overloaded"));
        QVERIFY(second.body.find("max_body_memory_bytes") != std::string::npos);
        first.join();
        QCOMPARE(firstStatus.load(), 200);
        // The first one's memory is given back when it ends.
        QCOMPARE(rig.client().post("/v1/chat/completions", chatRequest(std::string(700 * 1024, 'c')).dump()).status,
                 200);
    }

    void connectionsAreCapped() {
        ProxyRig rig(R"({
          "limits": {"max_connections": 2},
          "providers": [{"id": "gpt", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"}],
          "routes": [{"name": "default", "targets": [{"provider": "gpt"}]}]
        })", 1);
        QVERIFY2(rig.ok(), rig.error().c_str());
        auto one = rig.client();
        auto two = rig.client();
        QCOMPARE(one.get("/healthz").status, 200); // both stay open (keep-alive)
        QCOMPARE(two.get("/healthz").status, 200);
        auto three = rig.client();
        auto refused = three.get("/healthz");
        QCOMPARE(refused.status, 503);
        QCOMPARE(parseJson(refused.body)["error"]["code"], json("too_many_connections"));
        one.close();
        // The slot comes back once the server has seen the close. One client for all tries: QTRY evaluates its
        // expression several times, and a fresh client per try would itself hold a slot until the server reaps it.
        auto four = rig.client();
        QTRY_COMPARE_WITH_TIMEOUT(four.get("/healthz").status, 200, 5000);
        QCOMPARE(three.get("/healthz").status, 503); // and the cap holds again with two + four
    }
};

QTEST_GUILESS_MAIN(ResourceLimitsTest)
#include "test_resource_limits.moc"
