// Streams through the proxy (CONTRACT §3 "Stream commit point", "Streaming"): relayed event by event, failing
// over before the first content, ending with an explicit error after it, cancelled when the client leaves.
#include "ProxyRig.h"
#include "SimRequests.h"

#include <QtTest>

#include <thread>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

const char* kConfig = R"({
  "breaker": {"consecutive_failures": 0, "failure_rate": 0},
  "providers": [
    {"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key",
     "timeouts_ms": {"first_byte": 2000, "idle": 400}},
    {"id": "beta", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key"},
    {"id": "claude1", "kind": "anthropic", "base_url": "${SIM0_ROOT}", "api_key": "sim-key"},
    {"id": "claude2", "kind": "anthropic", "base_url": "${SIM1_ROOT}", "api_key": "sim-key"}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "alpha"}, {"provider": "beta"}]},
    {"name": "claude", "targets": [{"provider": "claude1"}, {"provider": "claude2"}]}
  ]
})";

sim::Options pacedSims() {
    sim::Options options = ProxyRig::fastSimOptions();
    options.eventInterval = Millis{60};
    options.streamEvents = 6;
    return options;
}

std::string contentOf(const StreamReply& reply) {
    std::string text;
    for (const auto& e : reply.events) {
        if (e.data == "[DONE]") continue;
        const json chunk = json::parse(e.data, nullptr, false);
        if (chunk.is_object() && chunk.contains("choices") && !chunk["choices"].empty())
            text += chunk["choices"][0]["delta"].value("content", "");
    }
    return text;
}

bool hasDone(const StreamReply& reply) {
    return !reply.events.empty() && reply.events.back().data == "[DONE]";
}

} // namespace

class ProxyStreamingTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;

private slots:
    void init() {
        rig = std::make_unique<ProxyRig>(kConfig, 2, pacedSims());
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void eventsArriveAsTheyAreSent() {
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        QVERIFY(reply.header("content-type").starts_with("text/event-stream"));
        QVERIFY(hasDone(reply));
        // 6 content events 60 ms apart: the first must arrive long before the last was even sent.
        double firstContent = -1, last = reply.events.back().atMs;
        for (const auto& e : reply.events)
            if (firstContent < 0 && e.data.find("\"content\":\"") != std::string::npos &&
                e.data.find("\"content\":\"\"") == std::string::npos)
                firstContent = e.atMs;
        QVERIFY(firstContent >= 0);
        QVERIFY2(last - firstContent >= 200, (std::to_string(firstContent) + " .. " + std::to_string(last)).c_str());
        QVERIFY(!contentOf(reply).empty());
    }

    void theUsageChunkWeAskedForIsRemovedAgain() {
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QVERIFY(hasDone(reply));
        for (const auto& e : reply.events) {
            if (e.data == "[DONE]") continue;
            QVERIFY2(!json::parse(e.data)["choices"].empty(), e.data.c_str()); // no usage-only chunk
        }
        // Upstream, we asked for it.
        const json sent = json::parse(rig->sim(0).recentRequests().back().body);
        QCOMPARE(sent["stream_options"]["include_usage"], json(true));
        // A client that asks for it gets it.
        json request = chatRequest("hi", true);
        request["stream_options"] = {{"include_usage", true}};
        auto asked = rig->client().stream("/v1/chat/completions", request.dump());
        const json lastChunk = json::parse(asked.events[asked.events.size() - 2].data);
        QVERIFY(lastChunk["choices"].empty());
        QVERIFY(lastChunk["usage"]["completion_tokens"].get<int>() > 0);
    }

    void anErrorEventBeforeContentFailsOver() {
        rig->sim(0).setFault(sim::Fault::streamError(0));
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QCOMPARE(reply.header("x-fusebox-attempts"), std::string("2"));
        QVERIFY(hasDone(reply));
        for (const auto& e : reply.events) QVERIFY(e.data.find("\"error\"") == std::string::npos);
        QCOMPARE(rig->engine().snapshot().findProvider("alpha")->breaker.window.count(Outcome::ServerError), 1u);
    }

    void aCutBeforeContentFailsOver() {
        rig->sim(0).setFault(sim::Fault::cutStream(0));
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QVERIFY(hasDone(reply));
    }

    void aCutAfterContentEndsTheStreamWithAnError() {
        rig->sim(0).setFault(sim::Fault::cutStream(2));
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        QVERIFY(!hasDone(reply)); // never a clean end
        QVERIFY(!reply.events.empty());
        const json last = json::parse(reply.events.back().data);
        QCOMPARE(last["error"]["type"], json("upstream_stream_interrupted"));
        QVERIFY(last["error"]["message"].get<std::string>().find("alpha") != std::string::npos);
        QCOMPARE(rig->sim(1).stats().requests, uint64_t{0}); // committed: no fallback
        QTRY_COMPARE(rig->engine().snapshot().findProvider("alpha")->breaker.window.count(Outcome::BadResponse), 1u);
    }

    void aStallBeforeContentFailsOverAtIdle() {
        // The sims send their preamble (the role chunk) at once, then wait 700 ms before the first content:
        // past alpha's 400 ms idle limit, within beta's default.
        sim::Options stalling = ProxyRig::fastSimOptions();
        stalling.eventInterval = Millis{700};
        stalling.streamEvents = 2;
        ProxyRig stallRig(kConfig, 2, stalling);
        QVERIFY(stallRig.ok());
        auto reply = stallRig.client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QVERIFY(hasDone(reply));
        // Nothing of alpha's preamble reached the client: it was held until the commit point that never came.
        QCOMPARE(reply.events.front().data.find("\"role\":\"assistant\"") != std::string::npos, true);
        int roleChunks = 0;
        for (const auto& e : reply.events) roleChunks += e.data.find("\"role\"") != std::string::npos;
        QCOMPARE(roleChunks, 1);
        const auto alpha = stallRig.engine().snapshot().findProvider("alpha")->breaker;
        QCOMPARE(alpha.window.count(Outcome::Timeout), 1u);
    }

    void aClientThatLeavesCancelsTheUpstreamCall() {
        sim::Options slow = ProxyRig::fastSimOptions();
        slow.eventInterval = Millis{200};
        slow.streamEvents = 50; // ten seconds of stream
        ProxyRig slowRig(kConfig, 2, slow);
        QVERIFY(slowRig.ok());
        int seen = 0;
        auto reply = slowRig.client().stream("/v1/chat/completions", chatRequest("hi", true).dump(), {},
                                             [&seen](const test::SseEvent&) { return ++seen < 3; });
        QVERIFY(reply.clientClosed);
        QTRY_COMPARE_WITH_TIMEOUT(slowRig.sim(0).stats().streamsAborted, uint64_t{1}, 3000);
        QTRY_COMPARE(slowRig.engine().snapshot().findProvider("alpha")->breaker.window.count(Outcome::Cancelled), 1u);
        QCOMPARE(slowRig.engine().snapshot().findProvider("alpha")->breaker.inFlight, int64_t{0});
        // The session let go of the request too: nothing is left for a shutdown to wait for.
        QTRY_COMPARE(slowRig.engine().requestsInFlight(), int64_t{0});
    }

    void aClientThatLeavesDuringAHangCancelsToo() {
        rig->sim(0).setFault(sim::Fault::hang());
        rig->sim(1).setFault(sim::Fault::hang());
        SimHttpClient client = rig->client(std::chrono::milliseconds(300));
        auto reply = client.post("/v1/chat/completions", chatRequest().dump());
        QVERIFY(!reply.complete()); // our client gave up
        client.close();
        QTRY_COMPARE(rig->engine().snapshot().findProvider("alpha")->breaker.window.count(Outcome::Cancelled), 1u);
        QTRY_COMPARE(rig->sim(0).stats().hanging, int64_t{0});
    }

    void anthropicStreamsCommitAtTheFirstContentBlockDelta() {
        rig->sim(0).setFault(sim::Fault::streamError(0, 529));
        auto reply = rig->client().stream("/v1/messages", messagesRequest("hi", true, "claude").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("claude2"));
        QCOMPARE(reply.events.front().event, std::string("message_start"));
        QCOMPARE(reply.events.back().event, std::string("message_stop"));
        int deltas = 0;
        for (const auto& e : reply.events) deltas += e.event == "content_block_delta";
        QCOMPARE(deltas, 6);
    }

    void anthropicCutAfterCommitEndsWithAnErrorEvent() {
        rig->sim(0).setFault(sim::Fault::cutStream(3));
        auto reply = rig->client().stream("/v1/messages", messagesRequest("hi", true, "claude").dump());
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("claude1"));
        QCOMPARE(reply.events.back().event, std::string("error"));
        QCOMPARE(json::parse(reply.events.back().data)["type"], json("error"));
        for (const auto& e : reply.events) QVERIFY(e.event != "message_stop");
    }

    void manyConcurrentStreamsAllCompleteIntact() {
        std::vector<std::thread> clients;
        std::atomic<int> intact{0};
        for (int i = 0; i < 40; ++i)
            clients.emplace_back([this, &intact] {
                auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
                if (reply.complete() && hasDone(reply) && reply.events.size() >= 8) ++intact;
            });
        for (auto& c : clients) c.join();
        QCOMPARE(intact.load(), 40);
    }
};

QTEST_GUILESS_MAIN(ProxyStreamingTest)
#include "test_proxy_streaming.moc"
