// A provider can send anything too: odd error shapes some OpenAI-compatible servers really send, fields of the
// wrong type, headers too large for a header, text clipped inside a character, floods before the first content,
// garbage after it, and our own key echoed back. None may crash Fusebox, leak the key to the client, or hold
// memory without bound. The misbehaving provider is a raw socket server that says exactly what the test wants.
#include "ProxyRig.h"
#include "RawHttpServer.h"
#include "SimRequests.h"
#include "TestSupport.h"

#include <QtTest>

#include <mutex>
#include <thread>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;
using Script = RawHttpServer::Script;

namespace {

const std::string kKey = "sk-hostile-provider-key-0123456789";

std::string sse(const std::string& data, const std::string& event = {}) {
    return (event.empty() ? std::string() : "event: " + event + "\n") + "data: " + data + "\n\n";
}

Script streamOf(const std::string& events) {
    return {RawHttpServer::send(RawHttpServer::chunkedHead(200) + RawHttpServer::chunk(events) +
                                std::string(RawHttpServer::kLastChunk))};
}

Script whole(int status, const std::string& body, const RawHttpServer::Headers& headers = {}) {
    RawHttpServer::Headers all = headers;
    all.emplace_back("Content-Type", "application/json");
    return {RawHttpServer::send(RawHttpServer::response(status, body, all))};
}

std::string contentChunk(const std::string& text) {
    return sse(json{{"id", "c1"}, {"object", "chat.completion.chunk"}, {"model", "m"},
                    {"choices", {{{"index", 0}, {"delta", {{"content", text}}}, {"finish_reason", nullptr}}}}}
                   .dump());
}

} // namespace

class HostileProvidersTest : public QObject {
    Q_OBJECT
    std::unique_ptr<RawHttpServer> bad;
    std::unique_ptr<ProxyRig> rig;
    std::mutex scriptMutex;
    Script script;

    void answerWith(Script next) {
        std::lock_guard lock(scriptMutex);
        script = std::move(next);
    }

    HttpReply post(const std::string& path, const json& body) { return rig->client().post(path, body.dump()); }

    void stillServes() {
        answerWith(whole(200, R"({"id":"x","object":"chat.completion","choices":[]})"));
        QCOMPARE(post("/v1/chat/completions", chatRequest("hi", false, "good")).status, 200);
    }

private slots:
    void init() {
        bad = std::make_unique<RawHttpServer>([this](const RawRequest&) {
            std::lock_guard lock(scriptMutex);
            return script;
        });
        const std::string root = bad->url("");
        // Built as JSON: moc cannot read raw strings spliced with quotes.
        auto target = [](const std::string& provider, const std::string& model = {}) {
            json t = {{"provider", provider}};
            if (!model.empty()) t["model"] = model;
            return t;
        };
        const json config = {
            {"providers",
             {{{"id", "bad"}, {"kind", "openai"}, {"base_url", root + "/v1"}, {"api_key", kKey}},
              {{"id", "bad-claude"}, {"kind", "anthropic"}, {"base_url", root}, {"api_key", kKey}},
              {{"id", "gpt"}, {"kind", "openai"}, {"base_url", "${SIM0}"}, {"api_key", "sim-key"}},
              {{"id", "claude"}, {"kind", "anthropic"}, {"base_url", "${SIM0_ROOT}"}, {"api_key", "sim-key"}}}},
            {"routes",
             {{{"name", "default"}, {"targets", {target("bad"), target("gpt")}}},
              {{"name", "good"}, {"targets", {target("gpt")}}},
              {{"name", "messages"}, {"targets", {target("bad-claude"), target("claude")}}},
              {{"name", "cross"}, {"targets", {target("bad-claude", "claude-x"), target("gpt")}}},
              {{"name", "cross-only"}, {"targets", {target("bad-claude", "claude-x")}}}}}};
        rig = std::make_unique<ProxyRig>(config.dump(), 1, quickSimOptions(3));
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() {
        rig.reset();
        bad.reset();
    }

    void oddErrorEventsFailOver_data() {
        QTest::addColumn<QString>("event");
        QTest::newRow("error as a string") << R"({"error":"model overloaded"})";
        QTest::newRow("message a number") << R"({"error":{"message":5,"type":7}})";
        QTest::newRow("error a list") << R"({"error":[1,2]})";
        QTest::newRow("not an object") << R"("just text")";
        QTest::newRow("deep") << (std::string(100000, '[') + std::string(100000, ']')).c_str();
    }
    void oddErrorEventsFailOver() {
        QFETCH(QString, event);
        answerWith(streamOf(sse(event.toStdString())));
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("gpt"));
        QCOMPARE(reply.events.back().data, std::string("[DONE]"));
    }

    void anAnthropicErrorEventOfAnyShapeFailsOver() {
        for (const std::string data : {R"({"type":"error","error":{"type":5,"message":[1]}})", R"({"error":"x"})",
                                       R"(not json)", R"({"type":"error","error":"overloaded"})"}) {
            answerWith(streamOf(sse(data, "error")));
            auto reply = rig->client().stream("/v1/messages", messagesRequest("hi", true, "messages").dump());
            QCOMPARE(reply.status, 200);
            QCOMPARE(reply.header("x-fusebox-provider"), std::string("claude"));
            QCOMPARE(reply.events.back().event, std::string("message_stop"));
        }
    }

    void anAnswerOnTheOtherApiWithFieldsOfTheWrongTypeIsABadResponse() {
        for (const std::string body :
             {R"({"id":5,"type":"message","content":[{"type":"text","text":"hi"}],"usage":{}})",
              R"({"id":"m","model":["x"],"content":[]})", R"({"id":"m","usage":"lots","content":[]})",
              R"({"id":"m","content":"not a list"})", R"({"id":"m","content":[{"type":9}]})",
              R"({"id":"m","stop_reason":{"a":1},"content":[]})"}) {
            answerWith(whole(200, body));
            auto reply = post("/v1/chat/completions", chatRequest("hi", false, "cross"));
            QVERIFY2(reply.status == 200, reply.body.c_str());
            QCOMPARE(reply.header("x-fusebox-provider"), std::string("gpt"));
        }
        // Streamed, with a message_start whose message is not an object.
        answerWith(streamOf(sse(R"({"type":"message_start","message":"hello"})", "message_start") +
                            sse(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}})",
                                "content_block_delta")));
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true, "cross").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("gpt"));
    }

    void anOversizedProviderHeaderIsDropped() {
        answerWith(whole(200, R"({"id":"x","object":"chat.completion","choices":[]})",
                         {{"x-ratelimit-remaining-tokens", std::string(70 * 1024, '9')},
                          {"x-ratelimit-limit-requests", "500"}}));
        auto reply = post("/v1/chat/completions", chatRequest("hi"));
        QCOMPARE(reply.status, 200);
        QVERIFY(!reply.hasHeader("x-ratelimit-remaining-tokens"));
        QCOMPARE(reply.header("x-ratelimit-limit-requests"), std::string("500"));
    }

    void aLongErrorCutInsideACharacterStaysValidJson() {
        // 299 ASCII bytes then two-byte characters: a clip at 300 bytes lands inside one.
        const std::string message = std::string(299, 'a') + "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 tail";
        answerWith(whole(400, json{{"type", "error"}, {"error", {{"type", "invalid_request_error"}, {"message", message}}}}.dump()));
        auto reply = post("/v1/chat/completions", chatRequest("hi", false, "cross-only"));
        QCOMPARE(reply.status, 400);
        const json body = parseJson(reply.body);
        QVERIFY2(!body.is_discarded(), reply.body.c_str());
        QVERIFY(body["error"]["message"].get<std::string>().starts_with("aaaa"));
        stillServes();
    }

    void theKeyNeverReachesTheClient() {
        // In a 4xx body relayed as it is, in a rate-limit header, and inside stream events.
        answerWith(whole(400, R"({"error":{"message":"Incorrect API key provided: )" + kKey + R"(","type":"invalid_request_error"}})",
                         {{"x-ratelimit-remaining-requests", "key=" + kKey}}));
        auto reply = post("/v1/chat/completions", chatRequest("hi"));
        QCOMPARE(reply.status, 400);
        QVERIFY2(reply.body.find(kKey) == std::string::npos, reply.body.c_str());
        QVERIFY(reply.body.find("[redacted]") != std::string::npos);
        for (const auto& [name, value] : reply.headers) QVERIFY2(value.find(kKey) == std::string::npos, name.c_str());

        answerWith(streamOf(contentChunk("your key is " + kKey) + sse("[DONE]")));
        auto stream = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QCOMPARE(stream.status, 200);
        QCOMPARE(stream.header("x-fusebox-provider"), std::string("bad"));
        bool sawRedacted = false;
        for (const auto& event : stream.events) {
            QVERIFY2(event.data.find(kKey) == std::string::npos, event.data.c_str());
            sawRedacted = sawRedacted || event.data.find("[redacted]") != std::string::npos;
        }
        QVERIFY(sawRedacted);
    }

    void aFloodBeforeTheFirstContentIsFailedOverNotHeld() {
        const std::string roleOnly =
            sse(R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"}}]})");
        std::string flood;
        while (flood.size() < 3 * 1024 * 1024) flood += roleOnly;
        answerWith({RawHttpServer::send(RawHttpServer::chunkedHead(200) + RawHttpServer::chunk(flood)),
                    RawHttpServer::hang()});
        auto reply = rig->client(std::chrono::seconds(20)).stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("gpt"));
    }

    // A client that stops reading mid-stream: Fusebox's writes find its socket full and wait (the provider is
    // paused meanwhile), and once the client reads again every event arrives whole and in order.
    void aClientThatStopsReadingForAWhileGetsEveryEventInOrder() {
        constexpr int kEvents = 200; // 64 KiB each: far more than the sockets between us hold
        std::string events;
        for (int i = 0; i < kEvents; ++i)
            events += contentChunk(std::to_string(i) + ":" + std::string(64 * 1024, static_cast<char>('a' + i % 26)));
        answerWith(streamOf(events + sse("[DONE]")));
        bool paused = false;
        auto reply = rig->client(std::chrono::seconds(30))
                         .stream("/v1/chat/completions", chatRequest("hi", true).dump(), {}, [&](const auto&) {
                             if (!paused) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
                             paused = true;
                             return true;
                         });
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("bad"));
        QCOMPARE(reply.events.size(), std::size_t(kEvents + 1));
        for (int i = 0; i < kEvents; ++i) {
            const json chunk = parseJson(reply.events[i].data);
            const std::string content = chunk["choices"][0]["delta"]["content"].get<std::string>();
            QCOMPARE(content, std::to_string(i) + ":" + std::string(64 * 1024, static_cast<char>('a' + i % 26)));
        }
        QCOMPARE(reply.events.back().data, std::string("[DONE]"));
    }

    void garbageAfterTheCommitEndsTheStreamWithAnError() {
        answerWith(streamOf(contentChunk("Hello") + sse("{this is not json") + contentChunk(" world") + sse("[DONE]")));
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QCOMPARE(reply.status, 200);
        QVERIFY(!reply.events.empty());
        for (const auto& event : reply.events) {
            QVERIFY2(event.data != "[DONE]", "a broken stream must not end cleanly");
            QVERIFY2(event.data.find("this is not json") == std::string::npos, "garbage relayed");
        }
        const json last = parseJson(reply.events.back().data);
        QVERIFY2(last.contains("error"), reply.events.back().data.c_str());
        stillServes();
    }
};

QTEST_GUILESS_MAIN(HostileProvidersTest)
#include "test_hostile_providers.moc"
