// The other endpoints coding agents call (CONTRACT §3): POST /v1/messages/count_tokens (to an Anthropic-kind
// target), GET /v1/models/{id} in both APIs' shapes, the Anthropic list shape of GET /v1/models, legacy
// POST /v1/completions (streamed and not), HEAD on any path, and which request headers reach a provider (those
// agents use for caching and routing: yes; credentials: never).
#include "ProxyRig.h"
#include "SimRequests.h"
#include "sim/SimResponses.h"

#include <QDateTime>
#include <QtTest>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

const char* kConfig = R"({
  "breaker": {"consecutive_failures": 0, "failure_rate": 0},
  "providers": [
    {"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"},
    {"id": "beta", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key"},
    {"id": "claude", "kind": "anthropic", "base_url": "${SIM1_ROOT}", "api_key": "sim-key"}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "alpha"}, {"provider": "claude"}]},
    {"name": "openai-only", "targets": [{"provider": "alpha", "model": "gpt-4o"}, {"provider": "beta", "model": "gpt-4o"}]},
    {"name": "claude-only", "targets": [{"provider": "claude", "model": "claude-sonnet-4-5"}]}
  ]
})";

json completionRequest(bool stream, const std::string& model = "openai-only") {
    json body = {{"model", model}, {"prompt", "Say hello, sim."}, {"max_tokens", 50}};
    if (stream) body["stream"] = true;
    return body;
}

std::string completionText(const StreamReply& reply) {
    std::string text;
    for (const auto& e : reply.events) {
        if (e.data == "[DONE]") continue;
        const json chunk = json::parse(e.data);
        if (!chunk["choices"].empty()) text += chunk["choices"][0]["text"].get<std::string>();
    }
    return text;
}

} // namespace

class AgentEndpointsTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;

    // A HEAD request on its own connection: its status line and headers. The connection is then asked for
    // /healthz: if the HEAD answer had carried a body, those bytes would come before the next status line.
    std::string head(const std::string& path) {
        auto client = rig->client();
        if (!client.writeRaw("HEAD " + path + " HTTP/1.1\r\nHost: fusebox\r\n\r\n")) return "write failed";
        const std::string answer = client.readRawUntil("\r\n\r\n");
        if (!client.writeRaw("GET /healthz HTTP/1.1\r\nHost: fusebox\r\n\r\n")) return "second write failed";
        const std::string next = client.readRawUntil("\r\n\r\n");
        if (!next.starts_with("HTTP/1.1 200")) return "a body followed the HEAD answer: " + next;
        return answer;
    }

private slots:
    void init() {
        rig = std::make_unique<ProxyRig>(kConfig, 2);
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void countTokensGoesToTheAnthropicTarget() {
        json request = messagesRequest("Count these words please", false, "claude-sonnet-4-5");
        request.erase("max_tokens");
        auto reply = rig->client().post("/v1/messages/count_tokens", request.dump(),
                                        {{"anthropic-beta", "token-counting-2024-11-01"}});
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("claude"));
        QCOMPARE(reply.header("x-fusebox-attempts"), std::string("2")); // alpha skipped, with its reason
        QCOMPARE(json::parse(reply.body), json({{"input_tokens", 6}})); // 24 bytes / 4
        const auto seen = rig->sim(1).recentRequests().back();
        QCOMPARE(seen.target, std::string("/v1/messages/count_tokens"));
        QCOMPARE(json::parse(seen.body), request); // passed through as it came
        QCOMPARE(seen.header("x-api-key"), std::string("sim-key"));
        QCOMPARE(seen.header("anthropic-beta"), std::string("token-counting-2024-11-01"));
        QCOMPARE(seen.header("anthropic-version"), std::string("2023-06-01"));
        QCOMPARE(rig->requestsAt(0, "/v1"), 0);
    }

    void countTokensWithNoAnthropicTargetSaysWhy() {
        json request = messagesRequest("hi", false, "openai-only");
        auto reply = rig->client().post("/v1/messages/count_tokens", request.dump());
        QCOMPARE(reply.status, 503);
        const json body = json::parse(reply.body);
        QCOMPARE(body["type"], json("error")); // Anthropic's shape
        QCOMPARE(body["fusebox"]["attempts"].size(), std::size_t{2});
        const std::string reason = body["fusebox"]["attempts"][0]["reason"];
        QVERIFY2(reason.find("/v1/messages/count_tokens") != std::string::npos, reason.c_str());
        QCOMPARE(rig->sim(0).stats().requests + rig->sim(1).stats().requests, uint64_t{0});
    }

    void oneModelInOpenAisShape() {
        auto route = rig->client().get("/v1/models/openai-only");
        QCOMPARE(route.status, 200);
        QCOMPARE(json::parse(route.body),
                 json({{"id", "openai-only"}, {"object", "model"}, {"created", 0}, {"owned_by", "fusebox"}}));
        for (const std::string path : {"/v1/models/alpha/gpt-4o", "/v1/models/alpha%2Fgpt-4o"}) {
            auto pair = rig->client().get(path);
            QCOMPARE(pair.status, 200);
            QCOMPARE(json::parse(pair.body)["id"], json("alpha/gpt-4o"));
            QCOMPARE(json::parse(pair.body)["owned_by"], json("alpha"));
        }
        auto unknown = rig->client().get("/v1/models/no-such/model");
        QCOMPARE(unknown.status, 404);
        const json error = json::parse(unknown.body)["error"];
        QCOMPARE(error["code"], json("model_not_found"));
        QCOMPARE(error["type"], json("invalid_request_error"));
        QVERIFY(error["message"].get<std::string>().find("no-such/model") != std::string::npos);
    }

    void oneModelInAnthropicsShape() {
        const Headers anthropic = {{"anthropic-version", "2023-06-01"}};
        auto model = rig->client().get("/v1/models/claude/claude-sonnet-4-5", anthropic);
        QCOMPARE(model.status, 200);
        const json body = json::parse(model.body);
        QCOMPARE(body["type"], json("model"));
        QCOMPARE(body["id"], json("claude/claude-sonnet-4-5"));
        QCOMPARE(body["display_name"], json("claude/claude-sonnet-4-5"));
        QVERIFY(QDateTime::fromString(QString::fromStdString(body["created_at"].get<std::string>()), Qt::ISODate).isValid());
        auto unknown = rig->client().get("/v1/models/nothing", anthropic);
        QCOMPARE(unknown.status, 404);
        const json error = json::parse(unknown.body);
        QCOMPARE(error["type"], json("error"));
        QCOMPARE(error["error"]["type"], json("not_found_error"));
    }

    void theListInAnthropicsShape() {
        const Headers anthropic = {{"anthropic-version", "2023-06-01"}};
        auto list = rig->client().get("/v1/models", anthropic);
        QCOMPARE(list.status, 200);
        const json body = json::parse(list.body);
        QVERIFY(!body.contains("object"));
        // 3 routes, then alpha/gpt-4o, beta/gpt-4o, claude/claude-sonnet-4-5.
        QCOMPARE(body["data"].size(), std::size_t{6});
        QCOMPARE(body["has_more"], json(false));
        QCOMPARE(body["first_id"], json("default"));
        QCOMPARE(body["last_id"], json("claude/claude-sonnet-4-5"));
        for (const auto& entry : body["data"]) {
            QCOMPARE(entry["type"], json("model"));
            QVERIFY(entry["display_name"].is_string());
            QVERIFY(entry["created_at"].is_string());
        }
        auto page = rig->client().get("/v1/models?limit=2&after_id=default", anthropic);
        const json paged = json::parse(page.body);
        QCOMPARE(paged["data"].size(), std::size_t{2});
        QCOMPARE(paged["first_id"], json("openai-only"));
        QCOMPARE(paged["has_more"], json(true));
        auto bad = rig->client().get("/v1/models?limit=0", anthropic);
        QCOMPARE(bad.status, 400);
        // Without anthropic-version: OpenAI's list, as before.
        const json openai = json::parse(rig->client().get("/v1/models").body);
        QCOMPARE(openai["object"], json("list"));
        QCOMPARE(openai["data"][0]["object"], json("model"));
    }

    void legacyCompletionsWhole() {
        auto reply = rig->client().post("/v1/completions", completionRequest(false).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        const json body = json::parse(reply.body);
        QCOMPARE(body["object"], json("text_completion"));
        QCOMPARE(body["choices"][0]["text"], json(sim::contentText(5)));
        const auto seen = rig->sim(0).recentRequests().back();
        QCOMPARE(seen.target, std::string("/v1/completions"));
        QCOMPARE(json::parse(seen.body)["model"], json("gpt-4o"));
    }

    void legacyCompletionsStreamed() {
        auto reply = rig->client().stream("/v1/completions", completionRequest(true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(completionText(reply), sim::contentText(5));
        QCOMPARE(reply.events.back().data, std::string("[DONE]"));
        // Usage was asked for upstream, and its chunk is not relayed to a client that did not ask.
        QCOMPARE(json::parse(rig->sim(0).recentRequests().back().body)["stream_options"]["include_usage"], json(true));
        for (const auto& e : reply.events)
            if (e.data != "[DONE]") QVERIFY2(!json::parse(e.data)["choices"].empty(), e.data.c_str());
        QTRY_COMPARE(rig->engine().snapshot().findProvider("alpha")->breaker.window.count(Outcome::Success), 1u);
    }

    void legacyCompletionsCommitAtTheFirstText() {
        rig->sim(0).setFault(sim::Fault::streamError(0));
        auto before = rig->client().stream("/v1/completions", completionRequest(true).dump());
        QCOMPARE(before.header("x-fusebox-provider"), std::string("beta"));
        QCOMPARE(completionText(before), sim::contentText(5));
        rig->sim(0).setFault(sim::Fault::cutStream(2));
        auto after = rig->client().stream("/v1/completions", completionRequest(true).dump());
        QCOMPARE(after.header("x-fusebox-provider"), std::string("alpha"));
        QVERIFY(after.events.back().data != "[DONE]");
        QVERIFY(json::parse(after.events.back().data).contains("error"));
    }

    void legacyCompletionsGoToOpenAiKindProvidersOnly() {
        auto reply = rig->client().post("/v1/completions", completionRequest(false, "claude-only").dump());
        QCOMPARE(reply.status, 503);
        const json attempt = json::parse(reply.body)["error"]["fusebox"]["attempts"][0];
        QCOMPARE(attempt["provider"], json("claude"));
        QVERIFY(attempt["reason"].get<std::string>().find("/v1/completions") != std::string::npos);
        QCOMPARE(rig->sim(1).stats().requests, uint64_t{0});
    }

    void headIsAnsweredWithHeadersOnlyOnEveryPath() {
        const std::vector<std::pair<std::string, std::string>> cases = {
            {"/", "HTTP/1.1 200"},
            {"/healthz", "HTTP/1.1 200"},
            {"/v1/models", "HTTP/1.1 200"},
            {"/v1/models/default", "HTTP/1.1 200"},
            {"/v1/models/unknown", "HTTP/1.1 404"},
            {"/no/such/path", "HTTP/1.1 404"},
            {"/v1/chat/completions", "HTTP/1.1 405"},
            {"/v1/responses", "HTTP/1.1 405"},
            {"/metrics", "HTTP/1.1 200"},
            {"/admin/v1/state", "HTTP/1.1 200"},
            {"/admin/v1/events", "HTTP/1.1 200"},
        };
        for (const auto& [path, status] : cases) {
            const std::string answer = head(path);
            QVERIFY2(answer.starts_with(status), (path + ": " + answer).c_str());
            QVERIFY2(answer.find("Content-Length") != std::string::npos ||
                         answer.find("content-length") != std::string::npos,
                     (path + ": " + answer).c_str());
        }
    }

    void cachingAndRoutingHeadersPassCredentialsNever() {
        const Headers sent = {
            {"Authorization", "Bearer client-secret"}, {"x-api-key", "client-key"}, {"api-key", "azure-key"},
            {"Cookie", "session=abc"}, {"session_id", "s-123"}, {"originator", "codex_cli_rs"},
            {"OpenAI-Beta", "responses=experimental"}, {"conversation_id", "c-9"},
            {"x-client-request-id", "r-1"}, {"openai-organization", "org-1"}, {"x-stainless-os", "Linux"}};
        auto reply = rig->client().post("/v1/responses",
                                        json{{"model", "openai-only"}, {"input", "hi"}}.dump(), sent);
        QCOMPARE(reply.status, 200);
        const auto seen = rig->sim(0).recentRequests().back();
        QCOMPARE(seen.header("authorization"), std::string("Bearer sim-key"));
        for (const char* credential : {"x-api-key", "api-key", "cookie"})
            QVERIFY2(!seen.hasHeader(credential), credential);
        QCOMPARE(seen.header("session_id"), std::string("s-123"));
        QCOMPARE(seen.header("originator"), std::string("codex_cli_rs"));
        QCOMPARE(seen.header("openai-beta"), std::string("responses=experimental"));
        QCOMPARE(seen.header("conversation_id"), std::string("c-9"));
        QCOMPARE(seen.header("x-client-request-id"), std::string("r-1"));
        QCOMPARE(seen.header("openai-organization"), std::string("org-1"));
        QVERIFY(!seen.hasHeader("x-stainless-os")); // SDK telemetry is not the provider's business
        for (const auto& [name, value] : seen.headers)
            QVERIFY2(value.find("client-") == std::string::npos && value != "azure-key", name.c_str());

        // Anthropic: its own key in x-api-key, the client's anthropic-* headers, no Authorization.
        auto message = rig->client().post("/v1/messages", messagesRequest("hi", false, "claude-only").dump(),
                                          {{"Authorization", "Bearer client-secret"}, {"x-api-key", "client-key"},
                                           {"anthropic-version", "2023-06-01"},
                                           {"anthropic-beta", "prompt-caching-2024-07-31"}});
        QCOMPARE(message.status, 200);
        const auto claude = rig->sim(1).recentRequests().back();
        QCOMPARE(claude.header("x-api-key"), std::string("sim-key"));
        QVERIFY(!claude.hasHeader("authorization"));
        QCOMPARE(claude.header("anthropic-beta"), std::string("prompt-caching-2024-07-31"));
        QCOMPARE(claude.header("anthropic-version"), std::string("2023-06-01"));
    }
};

QTEST_GUILESS_MAIN(AgentEndpointsTest)
#include "test_agent_endpoints.moc"
