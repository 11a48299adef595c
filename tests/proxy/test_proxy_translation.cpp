// Fallback across the two APIs over real sockets: an OpenAI client answered by an Anthropic provider and an
// Anthropic client by an OpenAI one, streamed and not; what the provider was sent; an agent's tools, tool calls
// and results crossing both ways (from a scripted provider, as the sim speaks no tools); and the requests that
// cannot cross (several choices, no model for the other side), whose target is skipped without a call.
#include "ProxyRig.h"
#include "RawHttpServer.h"
#include "SimRequests.h"
#include "StderrCapture.h"
#include "TestSupport.h"
#include "sim/SimResponses.h"

#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <mutex>

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


// Tool-call arguments as a model streams them: escapes and non-ASCII, cut inside strings.
const std::string kToolArgs = "{\"path\": \"src/m\\u00e9ta.rs\", \"note\": \"\xE4\xB8\x96\"}";

std::string sseData(const json& data, const std::string& event = {}) {
    return (event.empty() ? std::string() : "event: " + event + "\n") + "data: " + data.dump() + "\n\n";
}

RawHttpServer::Script streamOf(const std::string& events) {
    return {RawHttpServer::send(RawHttpServer::chunkedHead(200) + RawHttpServer::chunk(events) +
                                std::string(RawHttpServer::kLastChunk))};
}

RawHttpServer::Script wholeJson(const json& body) {
    return {RawHttpServer::send(RawHttpServer::response(200, body.dump(), {{"Content-Type", "application/json"}}))};
}

// An Anthropic provider's answer: a few words, then a tool_use whose input comes in fragments.
std::string anthropicToolStream() {
    std::string out = sseData({{"type", "message_start"},
                               {"message", {{"id", "msg_raw"}, {"type", "message"}, {"role", "assistant"},
                                            {"model", "claude-x"}, {"content", json::array()},
                                            {"usage", {{"input_tokens", 50}, {"output_tokens", 1}}}}}},
                              "message_start");
    out += sseData({{"type", "content_block_start"}, {"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}},
                   "content_block_start");
    out += sseData({{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", "Reading."}}}},
                   "content_block_delta");
    out += sseData({{"type", "content_block_stop"}, {"index", 0}}, "content_block_stop");
    out += sseData({{"type", "content_block_start"}, {"index", 1},
                    {"content_block", {{"type", "tool_use"}, {"id", "toolu_9"}, {"name", "read_file"}, {"input", json::object()}}}},
                   "content_block_start");
    for (std::size_t i = 0; i < kToolArgs.size(); i += 9) {
        std::size_t end = std::min(kToolArgs.size(), i + 9);
        while (end < kToolArgs.size() && (static_cast<unsigned char>(kToolArgs[end]) & 0xC0) == 0x80) ++end;
        out += sseData({{"type", "content_block_delta"}, {"index", 1},
                        {"delta", {{"type", "input_json_delta"}, {"partial_json", kToolArgs.substr(i, end - i)}}}},
                       "content_block_delta");
        i = end - 9;
    }
    out += sseData({{"type", "content_block_stop"}, {"index", 1}}, "content_block_stop");
    out += sseData({{"type", "message_delta"}, {"delta", {{"stop_reason", "tool_use"}}}, {"usage", {{"output_tokens", 17}}}},
                   "message_delta");
    return out + sseData({{"type", "message_stop"}}, "message_stop");
}

// An OpenAI provider's stream: a tool call whose arguments come in fragments, then the usage chunk.
std::string openAiToolStream() {
    auto chunk = [](const json& delta, const json& finish) {
        return sseData({{"id", "chatcmpl-raw"}, {"object", "chat.completion.chunk"}, {"created", 1}, {"model", "gpt-x"},
                        {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}});
    };
    std::string out = chunk({{"role", "assistant"}, {"content", nullptr},
                             {"tool_calls", {{{"index", 0}, {"id", "call_7"}, {"type", "function"},
                                              {"function", {{"name", "read_file"}, {"arguments", ""}}}}}}},
                            nullptr);
    out += chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", kToolArgs.substr(0, 11)}}}}}}}, nullptr);
    out += chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", kToolArgs.substr(11)}}}}}}}, nullptr);
    out += chunk(json::object(), "tool_calls");
    out += sseData({{"id", "chatcmpl-raw"}, {"object", "chat.completion.chunk"}, {"created", 1}, {"model", "gpt-x"},
                    {"choices", json::array()},
                    {"usage", {{"prompt_tokens", 80}, {"completion_tokens", 9}, {"total_tokens", 89},
                               {"prompt_tokens_details", {{"cached_tokens", 30}}}}}});
    return out + "data: [DONE]\n\n";
}

// An agent's OpenAI request: tools, a past call and its result.
json openAiAgentRequest(const std::string& model, bool stream) {
    json body = {{"model", model}, {"stream", stream}, {"tool_choice", "auto"}};
    const json parameters = {{"type", "object"}, {"properties", {{"path", {{"type", "string"}}}}}};
    const json function = {{"name", "read_file"}, {"description", "Read a file"}, {"parameters", parameters}};
    body["tools"] = json::array({json{{"type", "function"}, {"function", function}}});
    body["messages"] = {{{"role", "system"}, {"content", "You are an agent."}},
                        {{"role", "user"}, {"content", "Read a.rs"}},
                        {{"role", "assistant"}, {"content", nullptr},
                         {"tool_calls", {{{"id", "call_1"}, {"type", "function"},
                                          {"function", {{"name", "read_file"}, {"arguments", "{\"path\":\"a.rs\"}"}}}}}}},
                        {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "fn main() {}"}}};
    return body;
}

// An agent's Anthropic request: tools, a past tool_use and its tool_result.
json anthropicAgentRequest(const std::string& model, bool stream) {
    json body = {{"model", model}, {"stream", stream}, {"max_tokens", 500}};
    body["tools"] = {{{"name", "read_file"}, {"input_schema", {{"type", "object"}, {"properties", {{"path", {{"type", "string"}}}}}}}}};
    body["messages"] = {{{"role", "user"}, {"content", "Read a.rs"}},
                        {{"role", "assistant"}, {"content", {{{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "read_file"},
                                                              {"input", {{"path", "a.rs"}}}}}}},
                        {{"role", "user"}, {"content", {{{"type", "tool_result"}, {"tool_use_id", "toolu_1"},
                                                         {"content", "fn main() {}"}}}}}};
    return body;
}

} // namespace

class ProxyTranslationTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;
    std::unique_ptr<RawHttpServer> raw; // a provider of tool calls, scripted
    std::mutex scriptMutex;
    RawHttpServer::Script script;

    // A rig whose sim (both APIs) fails over to the scripted provider, in the other API.
    void startToolRig(RawHttpServer::Script answer) {
        rig.reset();
        script = std::move(answer);
        raw = std::make_unique<RawHttpServer>([this](const RawRequest&) {
            std::lock_guard lock(scriptMutex);
            return script;
        });
        const std::string root = raw->url("");
        // Built as JSON: moc cannot read raw strings spliced with quotes.
        const json config = {
            {"providers",
             {{{"id", "gpt"}, {"kind", "openai"}, {"base_url", "${SIM0}"}, {"api_key", "sim-key"}},
              {{"id", "claude"}, {"kind", "anthropic"}, {"base_url", "${SIM0_ROOT}"}, {"api_key", "sim-key"}},
              {{"id", "raw-claude"}, {"kind", "anthropic"}, {"base_url", root}, {"api_key", "raw-key"}},
              {{"id", "raw-gpt"}, {"kind", "openai"}, {"base_url", root + "/v1"}, {"api_key", "raw-key"}}}},
            {"routes",
             {{{"name", "agent"}, {"targets", {{{"provider", "gpt"}}, {{"provider", "raw-claude"}, {"model", "claude-x"}}}}},
              {{"name", "agent-messages"},
               {"targets", {{{"provider", "claude"}}, {{"provider", "raw-gpt"}, {"model", "gpt-x"}}}}}}}};
        rig = std::make_unique<ProxyRig>(config.dump(), 1, quickSimOptions(3));
        QVERIFY2(rig->ok(), rig->error().c_str());
        rig->sim(0).setFault(sim::Fault::httpError(503));
    }

    json rawRequestBody(std::string& target) {
        auto requests = raw->requests();
        if (requests.empty()) return json();
        target = requests.back().target;
        return json::parse(requests.back().body, nullptr, false);
    }

private slots:
    void init() {
        rig = std::make_unique<ProxyRig>(kConfig, 2, quickSimOptions(5));
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() {
        rig.reset();
        raw.reset();
    }

    void anOpenAiAgentStreamsToolCallsFromAnAnthropicProvider() {
        startToolRig(streamOf(anthropicToolStream()));
        auto reply = rig->client().stream("/v1/chat/completions", openAiAgentRequest("agent", true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("raw-claude"));
        QCOMPARE(reply.events.back().data, std::string("[DONE]"));
        std::string text, arguments, finish;
        json firstCall;
        for (std::size_t i = 0; i + 1 < reply.events.size(); ++i) {
            const json chunk = json::parse(reply.events[i].data);
            if (chunk["choices"].empty()) continue;
            const json& delta = chunk["choices"][0]["delta"];
            if (delta.contains("content")) text += delta["content"].get<std::string>();
            if (delta.contains("tool_calls")) {
                QCOMPARE(delta["tool_calls"][0]["index"], json(0));
                if (delta["tool_calls"][0].contains("id")) firstCall = delta["tool_calls"][0];
                arguments += delta["tool_calls"][0]["function"]["arguments"].get<std::string>();
            }
            if (chunk["choices"][0]["finish_reason"].is_string()) finish = chunk["choices"][0]["finish_reason"];
        }
        QCOMPARE(text, std::string("Reading."));
        QCOMPARE(firstCall["id"], json("toolu_9"));
        QCOMPARE(firstCall["function"]["name"], json("read_file"));
        QCOMPARE(arguments, kToolArgs); // byte for byte
        QCOMPARE(finish, std::string("tool_calls"));

        // What the Anthropic provider was sent: the tools, the past call and its result.
        std::string target;
        const json sent = rawRequestBody(target);
        QCOMPARE(target, std::string("/v1/messages"));
        QCOMPARE(sent["model"], json("claude-x"));
        QCOMPARE(sent["system"], json("You are an agent."));
        QCOMPARE(sent["tools"][0]["name"], json("read_file"));
        QCOMPARE(sent["tools"][0]["input_schema"]["properties"]["path"]["type"], json("string"));
        QCOMPARE(sent["tool_choice"], (json{{"type", "auto"}}));
        QCOMPARE(sent["messages"][1]["content"][0],
                 (json{{"type", "tool_use"}, {"id", "call_1"}, {"name", "read_file"}, {"input", {{"path", "a.rs"}}}}));
        QCOMPARE(sent["messages"][2]["content"][0],
                 (json{{"type", "tool_result"}, {"tool_use_id", "call_1"}, {"content", "fn main() {}"}}));
    }

    void anAnthropicAgentGetsToolUseFromAnOpenAiProvider() {
        json answer = {{"id", "chatcmpl-raw"}, {"object", "chat.completion"}, {"created", 1}, {"model", "gpt-x"},
                       {"usage", {{"prompt_tokens", 80}, {"completion_tokens", 9}, {"total_tokens", 89}}}};
        answer["choices"] = {{{"index", 0}, {"finish_reason", "tool_calls"},
                              {"message", {{"role", "assistant"}, {"content", nullptr},
                                           {"tool_calls", {{{"id", "call_7"}, {"type", "function"},
                                                            {"function", {{"name", "read_file"}, {"arguments", kToolArgs}}}}}}}}}};
        startToolRig(wholeJson(answer));
        auto reply = rig->client().post("/v1/messages", anthropicAgentRequest("agent-messages", false).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("raw-gpt"));
        const json body = json::parse(reply.body);
        QCOMPARE(body["stop_reason"], json("tool_use"));
        QCOMPARE(body["content"].size(), std::size_t{1});
        QCOMPARE(body["content"][0]["type"], json("tool_use"));
        QCOMPARE(body["content"][0]["id"], json("call_7"));
        QCOMPARE(body["content"][0]["input"], json::parse(kToolArgs));
        QCOMPARE(body["usage"]["input_tokens"], json(80));

        std::string target;
        const json sent = rawRequestBody(target);
        QCOMPARE(target, std::string("/v1/chat/completions"));
        QCOMPARE(sent["model"], json("gpt-x"));
        QCOMPARE(sent["tools"][0]["function"]["name"], json("read_file"));
        QCOMPARE(sent["messages"][1]["tool_calls"][0]["id"], json("toolu_1"));
        QCOMPARE(sent["messages"][1]["tool_calls"][0]["function"]["arguments"], json(json{{"path", "a.rs"}}.dump()));
        QCOMPARE(sent["messages"][2], (json{{"role", "tool"}, {"tool_call_id", "toolu_1"}, {"content", "fn main() {}"}}));
    }

    void anAnthropicAgentStreamsToolUseFromAnOpenAiProvider() {
        startToolRig(streamOf(openAiToolStream()));
        auto reply = rig->client().stream("/v1/messages", anthropicAgentRequest("agent-messages", true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("raw-gpt"));
        std::string arguments;
        json start, toolBlock, finalDelta;
        for (const auto& event : reply.events) {
            const json data = json::parse(event.data);
            QCOMPARE(data["type"], json(event.event));
            if (event.event == "message_start") start = data;
            if (event.event == "content_block_start") toolBlock = data["content_block"];
            if (event.event == "content_block_delta") arguments += data["delta"]["partial_json"].get<std::string>();
            if (event.event == "message_delta") finalDelta = data;
        }
        QCOMPARE(reply.events.back().event, std::string("message_stop"));
        QCOMPARE(toolBlock, (json{{"type", "tool_use"}, {"id", "call_7"}, {"name", "read_file"}, {"input", json::object()}}));
        QCOMPARE(arguments, kToolArgs);
        QCOMPARE(finalDelta["delta"]["stop_reason"], json("tool_use"));
        // The prompt's size is known only at the end of an OpenAI stream: 0 at the start, the count at the end.
        QCOMPARE(start["message"]["usage"]["input_tokens"], json(0));
        QCOMPARE(finalDelta["usage"]["input_tokens"], json(50)); // 80, less 30 read from the cache
        QCOMPARE(finalDelta["usage"]["cache_read_input_tokens"], json(30));
        QCOMPARE(finalDelta["usage"]["output_tokens"], json(9));
    }

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
        // gpt serves the Responses API too, so it is OpenAI's own: max_completion_tokens, which its reasoning
        // models need (a Chat-only server would get max_tokens).
        QCOMPARE(sent["max_completion_tokens"], json(1024));
        QVERIFY(!sent.contains("max_tokens"));
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

    void aTranslatedStreamCutMidToolCallEndsWithTheClientsError() {
        std::string cut = openAiToolStream();
        cut.resize(cut.find("\"finish_reason\":\"tool_calls\"")); // up to the last whole event before the finish
        cut.resize(cut.rfind("\n\n") + 2);
        startToolRig(streamOf(cut));
        auto reply = rig->client().stream("/v1/messages", anthropicAgentRequest("agent-messages", true).dump());
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.events.size() >= 3);
        QCOMPARE(reply.events.back().event, std::string("error")); // Anthropic's shape, never a clean end
        QCOMPARE(json::parse(reply.events.back().data)["error"]["type"], json("api_error"));
        for (const auto& event : reply.events) QVERIFY(event.event != "message_stop");
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
