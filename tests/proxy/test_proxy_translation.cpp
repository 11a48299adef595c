// Fallback across the two APIs over real sockets: an OpenAI client answered by an Anthropic provider and an
// Anthropic client by an OpenAI one, streamed and not; what the provider was sent; and the requests that cannot
// cross (tools, no model for the other side), whose target is skipped without a call.
#include "ProxyRig.h"
#include "SimRequests.h"
#include "StderrCapture.h"
#include "TestSupport.h"
#include "sim/SimResponses.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

const char* kConfig = R"({
  "providers": [
    {"id": "gpt", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"},
    {"id": "claude", "kind": "anthropic", "base_url": "${SIM1_ROOT}", "api_key": "sim-key"}
  ],
  "routes": [
    {"name": "chat", "targets": [{"provider": "gpt"}, {"provider": "claude", "model": "claude-sim"}]},
    {"name": "messages", "targets": [{"provider": "claude"}, {"provider": "gpt", "model": "gpt-sim"}]},
    {"name": "nomodel", "targets": [{"provider": "gpt"}, {"provider": "claude"}]}
  ]
})";

json lastBodyAt(ProxyRig& rig, int sim) {
    auto requests = rig.sim(sim).recentRequests();
    return requests.empty() ? json() : json::parse(requests.back().body, nullptr, false);
}

std::string lastTargetAt(ProxyRig& rig, int sim) {
    auto requests = rig.sim(sim).recentRequests();
    return requests.empty() ? std::string() : requests.back().target;
}

json openAiRequest(bool stream) {
    json body = {{"model", "chat"},
                 {"messages",
                  {{{"role", "system"}, {"content", "Be brief."}},
                   {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "hi"}}}}}}},
                 {"max_tokens", 3},
                 {"temperature", 1.5},
                 {"stop", "zzz"},
                 {"presence_penalty", 0.5}};
    if (stream) body["stream"] = true;
    return body;
}

} // namespace

class ProxyTranslationTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;

private slots:
    void init() {
        rig = std::make_unique<ProxyRig>(kConfig, 2, quickSimOptions(5));
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void openAiClientFallsOverToAnAnthropicProvider() {
        rig->sim(0).setFault(sim::Fault::httpError(503));
        auto reply = rig->client().post("/v1/chat/completions", openAiRequest(false).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("claude"));
        QCOMPARE(reply.header("x-fusebox-attempts"), std::string("2"));
        const json body = json::parse(reply.body);
        QCOMPARE(body["object"], json("chat.completion"));
        QCOMPARE(body["choices"][0]["message"]["role"], json("assistant"));
        QCOMPARE(body["choices"][0]["message"]["content"], json(sim::contentText(3)));
        QCOMPARE(body["choices"][0]["finish_reason"], json("length")); // max_tokens 3 cut it short
        QCOMPARE(body["usage"]["completion_tokens"], json(3));
        QCOMPARE(body["usage"]["total_tokens"].get<int>(),
                 body["usage"]["prompt_tokens"].get<int>() + body["usage"]["completion_tokens"].get<int>());

        // What the Anthropic provider was sent.
        QCOMPARE(lastTargetAt(*rig, 1), std::string("/v1/messages"));
        const json sent = lastBodyAt(*rig, 1);
        QCOMPARE(sent["model"], json("claude-sim"));
        QCOMPARE(sent["system"], json("Be brief."));
        QCOMPARE(sent["messages"], json::parse(R"([{"role":"user","content":"hi"}])"));
        QCOMPARE(sent["max_tokens"], json(3));
        QCOMPARE(sent["temperature"], json(1.0)); // Anthropic's range ends at 1
        QCOMPARE(sent["stop_sequences"], json::array({"zzz"}));
        QVERIFY(!sent.contains("presence_penalty") && !sent.contains("stop"));
    }

    void openAiClientStreamsFromAnAnthropicProvider() {
        rig->sim(0).setFault(sim::Fault::httpError(503));
        json request = openAiRequest(true);
        request.erase("max_tokens");
        request["stream_options"] = {{"include_usage", true}};
        auto reply = rig->client().stream("/v1/chat/completions", request.dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("claude"));
        QVERIFY(reply.header("content-type").find("text/event-stream") != std::string::npos);
        QVERIFY(!reply.events.empty());
        QCOMPARE(reply.events.back().data, std::string("[DONE]"));
        std::string text;
        std::string finish;
        json usage;
        for (std::size_t i = 0; i + 1 < reply.events.size(); ++i) {
            QCOMPARE(reply.events[i].event, std::string()); // OpenAI streams name no events
            const json chunk = json::parse(reply.events[i].data);
            QCOMPARE(chunk["object"], json("chat.completion.chunk"));
            if (chunk.contains("usage")) usage = chunk["usage"];
            if (chunk["choices"].empty()) continue;
            const json& choice = chunk["choices"][0];
            if (i == 0) QCOMPARE(choice["delta"]["role"], json("assistant"));
            if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
            if (choice["finish_reason"].is_string()) finish = choice["finish_reason"];
        }
        QCOMPARE(text, sim::contentText(5));
        QCOMPARE(finish, std::string("stop"));
        QCOMPARE(usage["completion_tokens"], json(5)); // asked for, so sent, in OpenAI's shape
        QVERIFY(lastBodyAt(*rig, 1)["stream"].get<bool>());

        // Not asked for: no usage chunk.
        request.erase("stream_options");
        auto plain = rig->client().stream("/v1/chat/completions", request.dump());
        QCOMPARE(plain.status, 200);
        for (const auto& event : plain.events)
            QVERIFY2(event.data.find("\"usage\"") == std::string::npos, event.data.c_str());
    }

    void anthropicClientFallsOverToAnOpenAiProvider() {
        rig->sim(1).setFault(sim::Fault::httpError(529));
        json request = messagesRequest("hi", false, "messages");
        request["system"] = json::parse(R"([{"type":"text","text":"Be brief."}])");
        request["stop_sequences"] = {"zzz"};
        auto reply = rig->client().post("/v1/messages", request.dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("gpt"));
        const json body = json::parse(reply.body);
        QCOMPARE(body["type"], json("message"));
        QCOMPARE(body["role"], json("assistant"));
        QCOMPARE(body["content"][0]["type"], json("text"));
        QCOMPARE(body["content"][0]["text"], json(sim::contentText(5)));
        QCOMPARE(body["stop_reason"], json("end_turn"));
        QCOMPARE(body["usage"]["output_tokens"], json(5));
        QVERIFY(body["usage"]["input_tokens"].get<int>() > 0);

        QCOMPARE(lastTargetAt(*rig, 0), std::string("/v1/chat/completions"));
        const json sent = lastBodyAt(*rig, 0);
        QCOMPARE(sent["model"], json("gpt-sim"));
        QCOMPARE(sent["messages"],
                 json::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}])"));
        QCOMPARE(sent["max_tokens"], json(1024));
        QCOMPARE(sent["stop"], json::array({"zzz"}));
    }

    void anthropicClientStreamsFromAnOpenAiProvider() {
        rig->sim(1).setFault(sim::Fault::httpError(529));
        auto reply = rig->client().stream("/v1/messages", messagesRequest("hi", true, "messages").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("gpt"));
        std::vector<std::string> names;
        std::string text;
        json finalDelta;
        for (const auto& event : reply.events) {
            names.push_back(event.event);
            const json data = json::parse(event.data);
            QCOMPARE(data["type"], json(event.event)); // the name and the type agree, as Anthropic sends them
            if (event.event == "content_block_delta") text += data["delta"]["text"].get<std::string>();
            if (event.event == "message_delta") finalDelta = data;
        }
        QVERIFY(names.size() >= 5);
        QCOMPARE(names.front(), std::string("message_start"));
        QCOMPARE(names[1], std::string("content_block_start"));
        QCOMPARE(names[names.size() - 3], std::string("content_block_stop"));
        QCOMPARE(names[names.size() - 2], std::string("message_delta"));
        QCOMPARE(names.back(), std::string("message_stop"));
        QCOMPARE(text, sim::contentText(5));
        QCOMPARE(finalDelta["delta"]["stop_reason"], json("end_turn"));
        QCOMPARE(finalDelta["usage"]["output_tokens"], json(5)); // Fusebox asked the OpenAI provider for usage
        QCOMPARE(lastBodyAt(*rig, 0)["stream_options"]["include_usage"], json(true));
    }

    void aCutAfterTheCommitEndsWithAnErrorInTheClientsShape() {
        rig->sim(1).setFault(sim::Fault::cutStream(2));
        auto reply =
            rig->client().stream("/v1/chat/completions", chatRequest("hi", true, "claude/claude-sim").dump());
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.events.size() >= 2);
        const json last = json::parse(reply.events.back().data);
        QVERIFY2(last.contains("error") && last["error"]["message"].is_string(), reply.events.back().data.c_str());
        for (const auto& event : reply.events) {
            QVERIFY(event.data != "[DONE]"); // never a clean end
            QCOMPARE(event.event, std::string()); // and nothing Anthropic-shaped
        }
    }

    void aMixedRouteWarnsAtStartAboutTargetsWithoutAModel() {
        rig.reset();
        QTemporaryDir dir;
        const std::string logPath = dir.filePath("stderr.log").toStdString();
        {
            StderrCapture capture(logPath);
            rig = std::make_unique<ProxyRig>(kConfig, 2, quickSimOptions(5));
        }
        QVERIFY2(rig->ok(), rig->error().c_str());
        const std::string logs = readFile(logPath);
        QVERIFY2(logs.find("route nomodel: target claude names no model") != std::string::npos, logs.c_str());
        QVERIFY2(logs.find("route nomodel: target gpt names no model") != std::string::npos, logs.c_str());
        QVERIFY2(logs.find("target claude names no model, so requests in the other API skip it") != std::string::npos,
                 logs.c_str());
        QVERIFY2(logs.find("route chat: target claude") == std::string::npos, logs.c_str()); // it names one
    }

    void aRequestThatCannotCrossSkipsTheTargetWithoutACall() {
        rig->sim(0).setFault(sim::Fault::httpError(503));
        json request = openAiRequest(false);
        request["n"] = 2; // several choices: Anthropic gives one
        auto reply = rig->client().post("/v1/chat/completions", request.dump());
        QCOMPARE(reply.status, 503);
        const json attempts = json::parse(reply.body)["error"]["fusebox"]["attempts"];
        QCOMPARE(attempts.size(), std::size_t{2});
        QCOMPARE(attempts[1]["provider"], json("claude"));
        const std::string reason = attempts[1]["reason"];
        QVERIFY2(reason.find("'n' (several choices) has no counterpart") != std::string::npos, reason.c_str());
        QCOMPARE(rig->sim(1).stats().requests, uint64_t{0});
    }

    void crossingNeedsAModelForTheOtherSide() {
        rig->sim(0).setFault(sim::Fault::httpError(503));
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi", false, "nomodel").dump());
        QCOMPARE(reply.status, 503);
        const std::string reason = json::parse(reply.body)["error"]["fusebox"]["attempts"][1]["reason"];
        QVERIFY2(reason.find("set the route target's \"model\"") != std::string::npos, reason.c_str());
        QCOMPARE(rig->sim(1).stats().requests, uint64_t{0});
    }

    void embeddingsNeverCross() {
        json request = {{"model", "claude/claude-sim"}, {"input", "hello"}};
        auto reply = rig->client().post("/v1/embeddings", request.dump());
        QCOMPARE(reply.status, 503);
        const std::string reason = json::parse(reply.body)["error"]["fusebox"]["attempts"][0]["reason"];
        QVERIFY2(reason.find("/v1/embeddings has no counterpart in the other API") != std::string::npos,
                 reason.c_str());
        QCOMPARE(rig->sim(1).stats().requests, uint64_t{0});
    }

    void providerSlashModelCrossesToo() {
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi", false, "claude/claude-sim").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(json::parse(reply.body)["object"], json("chat.completion"));
        QCOMPARE(lastBodyAt(*rig, 1)["model"], json("claude-sim"));
    }

    void aProviderRefusalReachesTheClientInItsOwnShape() {
        rig->sim(1).setFault(sim::Fault::httpError(400)); // a client error: relayed, not failed over
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi", false, "claude/claude-sim").dump());
        QCOMPARE(reply.status, 400);
        const json body = json::parse(reply.body);
        QVERIFY2(body.contains("error") && body["error"]["type"] == "invalid_request_error", reply.body.c_str());
        QVERIFY(body["error"]["message"].is_string() && !body["error"]["message"].get<std::string>().empty());
        QVERIFY(!body.contains("type")); // not Anthropic's {"type":"error",...}
    }
};

QTEST_GUILESS_MAIN(ProxyTranslationTest)
#include "test_proxy_translation.moc"
