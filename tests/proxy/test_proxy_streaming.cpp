// Streams through the proxy (CONTRACT §3 "Stream commit point", "Streaming", "Delivered"): relayed event by event,
// failing over before the first content, ending with an explicit error after it, cancelled when the client leaves
// mid-answer, and counted in full when it leaves after the final event.
#include "ProxyRig.h"
#include "RawHttpServer.h"
#include "SimRequests.h"

#include <QtTest>

#include <atomic>
#include <sstream>
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

std::string sseOf(const json& data, const std::string& event = {}) {
    return (event.empty() ? std::string() : "event: " + event + "\n") + "data: " + data.dump() + "\n\n";
}

std::string openAiChunk(const json& delta, const json& finishReason) {
    return sseOf({{"id", "c1"}, {"object", "chat.completion.chunk"}, {"model", "m-1"},
                  {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finishReason}}}}});
}

// A provider's stream cut in two at its final content event: the answer, then (later) what only accounting needs.
struct SplitStream {
    std::string answer;
    std::string rest;
};

SplitStream openAiStream() {
    return {openAiChunk({{"role", "assistant"}, {"content", ""}}, nullptr) +
                openAiChunk({{"content", "Hello"}}, nullptr) + openAiChunk(json::object(), "stop"),
            sseOf({{"id", "c1"}, {"object", "chat.completion.chunk"}, {"model", "m-1"}, {"choices", json::array()},
                   {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 7}, {"total_tokens", 19}}}}) +
                "data: [DONE]\n\n"};
}

SplitStream anthropicStream() {
    const json message = {{"id", "msg_1"}, {"type", "message"}, {"role", "assistant"}, {"model", "m-1"},
                          {"content", json::array()}, {"stop_reason", nullptr},
                          {"usage", {{"input_tokens", 12}, {"output_tokens", 1}}}};
    return {sseOf({{"type", "message_start"}, {"message", message}}, "message_start") +
                sseOf({{"type", "content_block_start"}, {"index", 0},
                       {"content_block", {{"type", "text"}, {"text", ""}}}},
                      "content_block_start") +
                sseOf({{"type", "content_block_delta"}, {"index", 0},
                       {"delta", {{"type", "text_delta"}, {"text", "Hello"}}}},
                      "content_block_delta") +
                sseOf({{"type", "content_block_stop"}, {"index", 0}}, "content_block_stop") +
                sseOf({{"type", "message_delta"}, {"delta", {{"stop_reason", "end_turn"}, {"stop_sequence", nullptr}}},
                       {"usage", {{"output_tokens", 7}}}},
                      "message_delta"),
            sseOf({{"type", "message_stop"}}, "message_stop")};
}

// Chunks as OpenAI sends them once include_usage is asked for: "usage": null in each (spelled several ways here),
// then the usage chunk. One nested "usage": null and one in the text are the provider's own and stay.
const std::vector<std::string>& markedChunks() {
    static const std::vector<std::string> chunks = {
        "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m-1\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}",
        "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m-1\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"content\":\"say \\\"usage\\\":null\"},\"finish_reason\":null}],\"usage\":null}",
        "{\"usage\": null, \"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"content\":\" ok\"},\"finish_reason\":null,\"usage\":null}]}",
        "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},"
        "\"finish_reason\":\"stop\"}] , \"usage\" : null }",
        "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}",
        "[DONE]"};
    return chunks;
}

// A proxy in front of one raw provider, `leaver`, reached through the route `default` with model m-1.
std::unique_ptr<ProxyRig> rigFor(const RawHttpServer& provider, const std::string& kind, int idleMs = 5000) {
    const json config = {
        {"breaker", {{"consecutive_failures", 0}, {"failure_rate", 0}}},
        {"providers",
         {{{"id", "leaver"}, {"kind", kind}, {"base_url", provider.url(kind == "openai" ? "/v1" : "")},
           {"api_key", "k"}, {"timeouts_ms", {{"idle", idleMs}}}}}},
        {"routes", {{{"name", "default"}, {"targets", {{{"provider", "leaver"}, {"model", "m-1"}}}}}}}};
    return std::make_unique<ProxyRig>(config.dump(), 1);
}

// The journal's row for the last attempt at `provider`, split into its columns: time, request_id, route,
// provider, model, outcome, status, ttfb_ms, duration_ms, input_tokens, output_tokens, usd, delivered.
std::vector<std::string> lastAttemptAt(ProxyRig& rig, const std::string& provider) {
    const auto until = std::chrono::system_clock::now() + std::chrono::hours(1);
    std::istringstream csv(rig.engine().attemptsCsv(WallTime{}, until));
    std::vector<std::string> found;
    for (std::string line; std::getline(csv, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::vector<std::string> columns;
        std::istringstream row(line);
        for (std::string column; std::getline(row, column, ',');) columns.push_back(column);
        if (columns.size() == 13 && columns[3] == provider) found = columns;
    }
    return found;
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
        // The sim, like OpenAI, marks every chunk "usage": null once asked: only the client that asked sees it.
        for (const auto& e : reply.events)
            if (e.data != "[DONE]") QVERIFY2(!json::parse(e.data).contains("usage"), e.data.c_str());
        QVERIFY(json::parse(asked.events.front().data).contains("usage"));
    }

    void theUsageNullMarksWeCausedAreRemovedToo() {
        std::string events;
        for (const auto& chunk : markedChunks()) events += "data: " + chunk + "\n\n";
        RawHttpServer provider(RawHttpServer::Script{RawHttpServer::send(
            RawHttpServer::chunkedHead(200) + RawHttpServer::chunk(events) + std::string(RawHttpServer::kLastChunk))});
        auto proxy = rigFor(provider, "openai");
        QVERIFY2(proxy->ok(), proxy->error().c_str());

        auto reply = proxy->client().stream("/v1/chat/completions", chatRequest("hi", true, "default").dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(reply.events.size(), std::size_t{5}); // the usage chunk goes too
        QCOMPARE(reply.events.back().data, std::string("[DONE]"));
        std::string text;
        for (std::size_t i = 0; i + 1 < reply.events.size(); ++i) {
            const json chunk = parseJson(reply.events[i].data);
            QVERIFY2(chunk.is_object(), reply.events[i].data.c_str());
            QVERIFY2(!chunk.contains("usage"), reply.events[i].data.c_str());
            text += chunk["choices"][0]["delta"].value("content", "");
        }
        QCOMPARE(text, std::string("say \"usage\":null ok"));
        QVERIFY(parseJson(reply.events[2].data)["choices"][0].contains("usage")); // nested: the provider's own
        // Only the member is cut; every other byte is the provider's.
        std::string first = markedChunks()[0];
        first.erase(first.find(",\"usage\":null}"), 13);
        QCOMPARE(reply.events[0].data, first);

        // A client that asked for the usage gets every chunk exactly as the provider sent it.
        json request = chatRequest("hi", true, "default");
        request["stream_options"] = {{"include_usage", true}};
        auto asked = proxy->client().stream("/v1/chat/completions", request.dump());
        QCOMPARE(asked.events.size(), markedChunks().size());
        for (std::size_t i = 0; i < asked.events.size(); ++i) QCOMPARE(asked.events[i].data, markedChunks()[i]);
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

    void aClientThatLeavesAfterTheFinalEventIsStillCounted_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("finalEvent"); // found in what the client reads, it leaves right after
        QTest::newRow("openai") << "openai" << "/v1/chat/completions" << "\"finish_reason\":\"stop\"";
        QTest::newRow("anthropic") << "anthropic" << "/v1/messages" << "message_delta";
        QTest::newRow("anthropic, translated") << "anthropic" << "/v1/chat/completions" << "\"finish_reason\":\"stop\"";
    }
    void aClientThatLeavesAfterTheFinalEventIsStillCounted() {
        // Older Codex closes its socket right after the finish_reason chunk, before the usage chunk and [DONE]:
        // it has the whole answer, and its tokens were spent all the same.
        QFETCH(QString, kind);
        QFETCH(QString, path);
        QFETCH(QString, finalEvent);
        const SplitStream stream = kind == "openai" ? openAiStream() : anthropicStream();
        std::unique_ptr<ProxyRig> proxy;
        std::atomic<bool> clientLeft{false};
        RawHttpServer provider([&](const RawRequest&) {
            return RawHttpServer::Script{
                RawHttpServer::send(RawHttpServer::chunkedHead(200) + RawHttpServer::chunk(stream.answer)),
                // The rest only once Fusebox has seen the client go (its session let go of the request).
                RawHttpServer::waitUntil([&] { return clientLeft.load() && proxy->engine().requestsInFlight() == 0; }),
                RawHttpServer::send(RawHttpServer::chunk(stream.rest) + std::string(RawHttpServer::kLastChunk))};
        });
        proxy = rigFor(provider, kind.toStdString());
        QVERIFY2(proxy->ok(), proxy->error().c_str());
        const std::string leaveAt = finalEvent.toStdString();
        const json request =
            path == "/v1/messages" ? messagesRequest("hi", true, "default") : chatRequest("hi", true, "default");
        auto reply = proxy->client().stream(path.toStdString(), request.dump(), {}, [&](const test::SseEvent& e) {
            const bool last = (e.event + " " + e.data).find(leaveAt) != std::string::npos;
            if (last) clientLeft = true;
            return !last;
        });
        QVERIFY(reply.clientClosed);

        std::vector<std::string> attempt;
        QTRY_VERIFY_WITH_TIMEOUT(!(attempt = lastAttemptAt(*proxy, "leaver")).empty(), 5000);
        QCOMPARE(attempt[5], std::string("success"));
        QCOMPARE(attempt[9], std::string("12"));  // input tokens
        QCOMPARE(attempt[10], std::string("7"));  // output tokens
        QCOMPARE(attempt[12], std::string("true")); // delivered
        const auto breaker = proxy->engine().snapshot().findProvider("leaver")->breaker;
        QCOMPARE(breaker.window.count(Outcome::Success), 1u);
        QCOMPARE(breaker.window.count(Outcome::Cancelled), 0u);
        QCOMPARE(breaker.inFlight, int64_t{0});
    }

    void aProviderThatStallsAfterTheFinalEventIsStillBoundedByIdle() {
        // The client left with the whole answer; the call is kept for the usage, but never past the idle limit.
        const SplitStream stream = openAiStream();
        RawHttpServer provider(RawHttpServer::Script{
            RawHttpServer::send(RawHttpServer::chunkedHead(200) + RawHttpServer::chunk(stream.answer)),
            RawHttpServer::hang()});
        auto proxy = rigFor(provider, "openai", 300);
        QVERIFY2(proxy->ok(), proxy->error().c_str());
        auto reply = proxy->client().stream("/v1/chat/completions", chatRequest("hi", true, "default").dump(), {},
                                            [](const test::SseEvent& e) {
                                                return e.data.find("\"finish_reason\":\"stop\"") == std::string::npos;
                                            });
        QVERIFY(reply.clientClosed);
        std::vector<std::string> attempt;
        QTRY_VERIFY_WITH_TIMEOUT(!(attempt = lastAttemptAt(*proxy, "leaver")).empty(), 5000);
        QCOMPARE(attempt[5], std::string("timeout"));
        QCOMPARE(attempt[12], std::string("true")); // the client had its answer all the same
        QTRY_COMPARE(provider.connectionsClosedByClient(), 1);
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
