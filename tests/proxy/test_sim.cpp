// The sim provider's two dialects over real sockets: shapes, usage numbers, errors, protocol corners, pacing.
// Faults: test_sim_faults.cpp. Lifetime, counters and load: test_sim_lifecycle.cpp.
#include "SimHttpClient.h"
#include "SimRequests.h"
#include "sim/SimProvider.h"
#include "sim/SimResponses.h"

#include <QtTest>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

std::string concatenated(const std::vector<std::string>& pieces) {
    std::string text;
    for (const auto& piece : pieces)
        text += piece;
    return text;
}

} // namespace

class TestSim : public QObject {
    Q_OBJECT

  private slots:
    void contentTextIsPredictable() {
        QCOMPARE(sim::contentText(3), std::string("Fusebox sim says"));
        QCOMPARE(sim::contentPiece(8), std::string(" Fusebox")); // the words cycle
        QCOMPARE(sim::contentText(0), std::string());
    }

    void chatCompletion() {
        sim::SimProvider provider(quickSimOptions(6));
        QVERIFY(provider.start());
        QCOMPARE(provider.openaiBaseUrl(), "http://127.0.0.1:" + std::to_string(provider.port()) + "/v1");
        QCOMPARE(provider.anthropicBaseUrl(), "http://127.0.0.1:" + std::to_string(provider.port()));

        // 10 bytes of text plus a 5-byte text part: ceil(15 / 4) = 4 input tokens.
        json request = chatRequest("abcdefghij", false, "gpt-4o-mini");
        request["messages"].push_back(
            {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "12345"}}}}});
        SimHttpClient client(provider.port());
        const HttpReply reply = client.post("/v1/chat/completions", request.dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.header("content-type").starts_with("application/json"));
        QVERIFY(!reply.header("x-request-id").empty());
        const json body = parseJson(reply.body);
        QCOMPARE(body["object"], "chat.completion");
        QVERIFY(body["id"].get<std::string>().starts_with("chatcmpl-"));
        QVERIFY(body["created"].get<int64_t>() > 1'700'000'000);
        QCOMPARE(body["model"], "gpt-4o-mini");
        QCOMPARE(body["choices"][0]["message"]["role"], "assistant");
        QCOMPARE(body["choices"][0]["message"]["content"], sim::contentText(6));
        QCOMPARE(body["choices"][0]["finish_reason"], "stop");
        QCOMPARE(body["usage"]["prompt_tokens"], 4);
        QCOMPARE(body["usage"]["completion_tokens"], 6);
        QCOMPARE(body["usage"]["total_tokens"], 10);
    }

    void maxTokensShortensTheAnswer() {
        sim::SimProvider provider(quickSimOptions(6));
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        json request = chatRequest();
        request["max_tokens"] = 2;
        json body = parseJson(client.post("/v1/chat/completions", request.dump()).body);
        QCOMPARE(body["usage"]["completion_tokens"], 2);
        QCOMPARE(body["choices"][0]["finish_reason"], "length");
        request.erase("max_tokens");
        request["max_completion_tokens"] = 3;
        body = parseJson(client.post("/v1/chat/completions", request.dump()).body);
        QCOMPARE(body["usage"]["completion_tokens"], 3);

        json anthropic = messagesRequest();
        anthropic["max_tokens"] = 4;
        body = parseJson(client.post("/v1/messages", anthropic.dump()).body);
        QCOMPARE(body["usage"]["output_tokens"], 4);
        QCOMPARE(body["stop_reason"], "max_tokens");
    }

    void fixedInputTokensReplaceTheFormula() {
        sim::Options options = quickSimOptions();
        options.inputTokens = 1000;
        sim::SimProvider provider(options);
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        const json body = parseJson(client.post("/v1/chat/completions", chatRequest("x").dump()).body);
        QCOMPARE(body["usage"]["prompt_tokens"], 1000);
        QCOMPARE(body["usage"]["total_tokens"], 1005);
    }

    void chatStream() {
        sim::SimProvider provider(quickSimOptions(5));
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        const StreamReply reply = client.stream("/v1/chat/completions", chatRequest("abcd", true).dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.header("content-type").starts_with("text/event-stream"));
        QCOMPARE(reply.header("transfer-encoding"), std::string("chunked"));
        // role delta, 5 content deltas, the finish chunk, [DONE]; no usage chunk since none was asked for.
        QCOMPARE(reply.events.size(), std::size_t(8));
        const json first = parseJson(reply.events[0].data);
        QCOMPARE(first["object"], "chat.completion.chunk");
        QCOMPARE(first["choices"][0]["delta"]["role"], "assistant");
        std::vector<std::string> pieces;
        for (std::size_t i = 1; i <= 5; ++i) {
            const json chunk = parseJson(reply.events[i].data);
            QCOMPARE(chunk["model"], "gpt-sim");
            QVERIFY(chunk["choices"][0]["finish_reason"].is_null());
            QVERIFY(!chunk.contains("usage"));
            pieces.push_back(chunk["choices"][0]["delta"]["content"]);
        }
        QCOMPARE(concatenated(pieces), sim::contentText(5));
        QCOMPARE(parseJson(reply.events[6].data)["choices"][0]["finish_reason"], "stop");
        QCOMPARE(reply.events[7].data, std::string("[DONE]"));
    }

    void chatStreamWithUsage() {
        sim::SimProvider provider(quickSimOptions(5));
        QVERIFY(provider.start());
        json request = chatRequest("abcdefgh", true); // 8 bytes: 2 tokens
        request["stream_options"] = {{"include_usage", true}};
        SimHttpClient client(provider.port());
        const StreamReply reply = client.stream("/v1/chat/completions", request.dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(reply.events.size(), std::size_t(9));
        for (std::size_t i = 0; i < 7; ++i)
            QVERIFY(parseJson(reply.events[i].data)["usage"].is_null());
        const json usage = parseJson(reply.events[7].data);
        QVERIFY(usage["choices"].is_array() && usage["choices"].empty());
        QCOMPARE(usage["usage"]["prompt_tokens"], 2);
        QCOMPARE(usage["usage"]["completion_tokens"], 5);
        QCOMPARE(usage["usage"]["total_tokens"], 7);
        QCOMPARE(reply.events[8].data, std::string("[DONE]"));
    }

    void embeddings() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        const json request = {{"model", "text-embedding-3-small"},
                              {"input", {"hello world", "abc"}}}; // 14 bytes
        const HttpReply reply = client.post("/v1/embeddings", request.dump());
        QCOMPARE(reply.status, 200);
        const json body = parseJson(reply.body);
        QCOMPARE(body["object"], "list");
        QCOMPARE(body["model"], "text-embedding-3-small");
        QCOMPARE(body["data"].size(), std::size_t(2));
        QCOMPARE(body["data"][1]["index"], 1);
        QCOMPARE(body["data"][0]["embedding"].size(), std::size_t(8));
        QCOMPARE(body["usage"]["prompt_tokens"], 4);
        QCOMPARE(body["usage"]["total_tokens"], 4);
    }

    void models() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        json body = parseJson(client.get("/v1/models").body);
        QCOMPARE(body["object"], "list");
        QCOMPARE(body["data"].size(), provider.options().models.size());
        QCOMPARE(body["data"][0]["id"], provider.options().models[0]);
        body = parseJson(client.get("/v1/models", {{"anthropic-version", "2023-06-01"}}).body);
        QCOMPARE(body["data"][0]["type"], "model");
        QCOMPARE(body["has_more"], false);
    }

    void message() {
        sim::Options options = quickSimOptions(7);
        options.cacheReadTokens = 11;
        options.cacheCreationTokens = 3;
        sim::SimProvider provider(options);
        QVERIFY(provider.start());
        json request = messagesRequest("hello", false, "claude-sonnet-4-5");
        request["system"] = "You are terse."; // 14 + 5 bytes: 5 tokens
        SimHttpClient client(provider.port());
        const HttpReply reply = client.post("/v1/messages", request.dump());
        QCOMPARE(reply.status, 200);
        const json body = parseJson(reply.body);
        QCOMPARE(body["type"], "message");
        QCOMPARE(body["role"], "assistant");
        QCOMPARE(body["model"], "claude-sonnet-4-5");
        QCOMPARE(body["content"][0]["type"], "text");
        QCOMPARE(body["content"][0]["text"], sim::contentText(7));
        QCOMPARE(body["stop_reason"], "end_turn");
        QCOMPARE(body["usage"]["input_tokens"], 5);
        QCOMPARE(body["usage"]["output_tokens"], 7);
        QCOMPARE(body["usage"]["cache_read_input_tokens"], 11);
        QCOMPARE(body["usage"]["cache_creation_input_tokens"], 3);
    }

    void messageStream() {
        sim::Options options = quickSimOptions(4);
        options.cacheReadTokens = 2;
        sim::SimProvider provider(options);
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        const StreamReply reply = client.stream("/v1/messages", messagesRequest("abcdefgh", true).dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        std::vector<std::string> names;
        std::vector<std::string> pieces;
        for (const auto& event : reply.events) {
            names.push_back(event.event);
            const json data = parseJson(event.data);
            QCOMPARE(data["type"], event.event); // Anthropic repeats the event name as data.type
            if (event.event == "content_block_delta") pieces.push_back(data["delta"]["text"]);
        }
        const std::vector<std::string> expected = {
            "message_start",       "content_block_start", "ping",
            "content_block_delta", "content_block_delta", "content_block_delta",
            "content_block_delta", "content_block_stop",  "message_delta",
            "message_stop"};
        QCOMPARE(names, expected);
        QCOMPARE(concatenated(pieces), sim::contentText(4));
        const json start = parseJson(reply.events[0].data)["message"];
        QCOMPARE(start["usage"]["input_tokens"], 2);
        QCOMPARE(start["usage"]["cache_read_input_tokens"], 2);
        const json delta = parseJson(reply.events[8].data);
        QCOMPARE(delta["usage"]["output_tokens"], 4);
        QCOMPARE(delta["delta"]["stop_reason"], "end_turn");
    }

    void badRequestsInEachShape() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        HttpReply reply = client.post("/v1/chat/completions", "{not json");
        QCOMPARE(reply.status, 400);
        json body = parseJson(reply.body);
        QCOMPARE(body["error"]["type"], "invalid_request_error");
        QVERIFY(body["error"]["message"].is_string());
        QVERIFY(body["error"].contains("param") && body["error"].contains("code"));

        reply = client.post("/v1/messages", "[1, 2");
        QCOMPARE(reply.status, 400);
        body = parseJson(reply.body);
        QCOMPARE(body["type"], "error");
        QCOMPARE(body["error"]["type"], "invalid_request_error");

        reply = client.post("/v1/chat/completions", R"({"messages": []})");
        QCOMPARE(reply.status, 400); // no model
        reply = client.post("/v1/chat/completions", R"({"model": "m", "stream": "yes"})");
        QCOMPARE(reply.status, 200); // a non-boolean stream is simply not a stream

        reply = client.post("/v1/nowhere", "{}");
        QCOMPARE(reply.status, 404);
        QCOMPARE(parseJson(reply.body)["error"]["type"], "invalid_request_error");
        reply = client.get("/v1/chat/completions");
        QCOMPARE(reply.status, 405);
        QCOMPARE(client.connectionsOpened(), 1); // errors keep the connection alive
        QCOMPARE(int(provider.stats().notFound), 1);
    }

    void apiKeyIsCheckedInEachDialectsHeader() {
        sim::Options options = quickSimOptions();
        options.apiKey = "sk-provider";
        sim::SimProvider provider(options);
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        HttpReply reply = client.post("/v1/chat/completions", chatRequest().dump(),
                                      {{"authorization", "Bearer sk-client"}});
        QCOMPARE(reply.status, 401);
        QCOMPARE(parseJson(reply.body)["error"]["code"], "invalid_api_key");
        reply = client.post("/v1/chat/completions", chatRequest().dump(),
                            {{"authorization", "Bearer sk-provider"}});
        QCOMPARE(reply.status, 200);

        reply =
            client.post("/v1/messages", messagesRequest().dump(), {{"authorization", "Bearer sk-provider"}});
        QCOMPARE(reply.status, 401);
        QCOMPARE(parseJson(reply.body)["error"]["type"], "authentication_error");
        reply = client.post("/v1/messages", messagesRequest().dump(),
                            {{"x-api-key", "sk-provider"}, {"anthropic-version", "2023-06-01"}});
        QCOMPARE(reply.status, 200);
    }

    void recentRequestsKeepTheLastOnesVerbatim() {
        sim::Options options = quickSimOptions();
        options.recentCapacity = 3;
        sim::SimProvider provider(options);
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        for (int i = 0; i < 5; ++i) {
            std::string content = "n"; // built by appending: GCC 12 warns falsely (-Wrestrict) on "n" + string
            content += std::to_string(i);
            client.post("/v1/messages?beta=true", messagesRequest(content).dump(), {{"X-Api-Key", "sk-provider"}});
        }
        const auto recent = provider.recentRequests();
        QCOMPARE(recent.size(), std::size_t(3));
        QCOMPARE(recent.front().body, messagesRequest("n2").dump());
        QCOMPARE(recent.back().method, std::string("POST"));
        QCOMPARE(recent.back().target, std::string("/v1/messages?beta=true"));
        QCOMPARE(recent.back().header("x-api-key"), std::string("sk-provider"));
        QVERIFY(!recent.back().hasHeader("authorization"));
        provider.resetStats();
        QVERIFY(provider.recentRequests().empty());
        QCOMPARE(int(provider.stats().requests), 0);
    }

    void expectContinueIsAnswered() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        const std::string body = chatRequest().dump();
        QVERIFY(client.writeRaw(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Expect: 100-continue\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n"));
        const std::string interim = client.readRawUntil("\r\n\r\n");
        QVERIFY2(interim.starts_with("HTTP/1.1 100"), interim.c_str());
        QVERIFY(client.writeRaw(body));
        QCOMPARE(client.readReply().status, 200);
    }

    void pipelinedRequestBehindAStreamIsServed() {
        sim::SimProvider provider(quickSimOptions(3));
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        auto raw = [](const std::string& target, const std::string& body) {
            return "POST " + target +
                   " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                   body;
        };
        // The second request arrives while the first is still streaming: it must wait its turn, not be lost.
        QVERIFY(client.writeRaw(raw("/v1/messages", messagesRequest("a", true).dump()) +
                                raw("/v1/chat/completions", chatRequest("b").dump())));
        const HttpReply streamed = client.readReply();
        QVERIFY2(streamed.complete(), streamed.error.c_str());
        QVERIFY(streamed.body.find("message_stop") != std::string::npos);
        const HttpReply plain = client.readReply();
        QVERIFY2(plain.complete(), plain.error.c_str());
        QCOMPARE(parseJson(plain.body)["object"], "chat.completion");
        QCOMPARE(client.connectionsOpened(), 1);
    }

    void streamIsPacedEventByEvent() {
        sim::Options options;
        options.eventInterval = Millis{50};
        options.streamEvents = 10;
        sim::SimProvider provider(options);
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        const StreamReply reply = client.stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(reply.events.size(), std::size_t(13));
        // The provider cannot send the 10th content event sooner than 9 intervals after the 1st, so unless
        // the client stalls for most of half a second, they arrive well apart; a buffered answer would not.
        const double firstContent = reply.events[1].atMs;
        const double lastContent = reply.events[10].atMs;
        QVERIFY2(lastContent - firstContent >= 200,
                 qPrintable(QString("first %1 ms, last %2 ms").arg(firstContent).arg(lastContent)));
        QVERIFY(reply.events[0].atMs <= firstContent);
        QVERIFY(lastContent >= 450); // 10 intervals of 50 ms at least
    }
};

QTEST_GUILESS_MAIN(TestSim)
#include "test_sim.moc"
