// CONTRACT §3 over real sockets: routing by model, fallback order, response headers, credentials, the agent API's
// small endpoints, and bad requests answered in the API's own shape without reaching a provider.
#include "ProxyRig.h"
#include "SimRequests.h"

#include <QtTest>

#include <set>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

const char* kConfig = R"({
  "providers": [
    {"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"},
    {"id": "beta", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key"},
    {"id": "claude", "kind": "anthropic", "base_url": "${SIM1_ROOT}", "api_key": "sim-key"}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "alpha"}, {"provider": "beta"}]},
    {"name": "cheap", "targets": [{"provider": "beta", "model": "sim-1-mini"}]},
    {"name": "anthropic", "targets": [{"provider": "claude", "model": "claude-sim"}]}
  ],
  "limits": {"max_body_bytes": 4096, "max_header_bytes": 2048}
})";

std::string lastModelAt(ProxyRig& rig, int sim) {
    auto requests = rig.sim(sim).recentRequests();
    if (requests.empty()) return "";
    return json::parse(requests.back().body).value("model", "");
}

} // namespace

class ProxyRoutingTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;

private slots:
    void init() {
        rig = std::make_unique<ProxyRig>(kConfig);
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void unknownModelGoesToDefaultWithItsModel() {
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi", false, "gpt-4o").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-route"), std::string("default"));
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        QCOMPARE(reply.header("x-fusebox-attempts"), std::string("1"));
        QCOMPARE(reply.header("x-request-id").size(), size_t{32});
        QCOMPARE(lastModelAt(*rig, 0), std::string("gpt-4o")); // passed through
        QCOMPARE(json::parse(reply.body)["object"], json("chat.completion"));
    }

    void routeNameSelectsTheRouteAndItsModel() {
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi", false, "cheap").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-route"), std::string("cheap"));
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QCOMPARE(lastModelAt(*rig, 1), std::string("sim-1-mini")); // the target's model replaced "cheap"
        QCOMPARE(rig->requestsAt(0, "/v1/chat/completions"), 0);
    }

    void providerSlashModelGoesToThatProviderAlone() {
        rig->sim(1).setFault(sim::Fault::httpError(500));
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi", false, "beta/gpt-x").dump());
        QCOMPARE(reply.status, 503); // no fallback for a direct request
        QCOMPARE(reply.header("x-fusebox-route"), std::string("beta/gpt-x"));
        QCOMPARE(lastModelAt(*rig, 1), std::string("gpt-x"));
        QCOMPARE(rig->requestsAt(0, "/v1/chat/completions"), 0);
        // A model whose prefix is not one of ours is just a model name, for the default route.
        rig->sim(1).clearFault();
        auto other = rig->client().post("/v1/chat/completions", chatRequest("hi", false, "meta-llama/x").dump());
        QCOMPARE(other.status, 200);
        QCOMPARE(lastModelAt(*rig, 0), std::string("meta-llama/x"));
    }

    void failedTargetFallsOverInOrder() {
        rig->sim(0).setFault(sim::Fault::httpError(503));
        auto reply = rig->client().post("/v1/chat/completions", chatRequest().dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QCOMPARE(reply.header("x-fusebox-attempts"), std::string("2"));
        QCOMPARE(rig->requestsAt(0, "/v1/chat/completions"), 1);
        QCOMPARE(rig->requestsAt(1, "/v1/chat/completions"), 1);
    }

    void clientErrorsAreTheClientsAndDoNotFallOver() {
        rig->sim(0).setFault(sim::Fault::httpError(400).withMessage("max_tokens is too large"));
        auto reply = rig->client().post("/v1/chat/completions", chatRequest().dump());
        QCOMPARE(reply.status, 400);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        QVERIFY(reply.body.find("max_tokens is too large") != std::string::npos);
        QCOMPARE(rig->requestsAt(1, "/v1/chat/completions"), 0);
    }

    void clientIdIsKeptAndKeysAreReplaced() {
        auto reply = rig->client().post("/v1/chat/completions", chatRequest().dump(),
                                        {{"Authorization", "Bearer sk-client-secret"}, {"x-request-id", "req-42"}});
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-request-id"), std::string("req-42"));
        const auto seen = rig->sim(0).recentRequests().back();
        QCOMPARE(seen.header("authorization"), std::string("Bearer sim-key"));
        for (const auto& [name, value] : seen.headers)
            QVERIFY2(value.find("sk-client-secret") == std::string::npos, name.c_str());
    }

    void anthropicMessagesWithVersionHeaders() {
        auto reply = rig->client().post("/v1/messages", messagesRequest("hi", false, "anthropic").dump(),
                                        {{"x-api-key", "sk-ant-client"}, {"anthropic-beta", "tools-2024"}});
        QCOMPARE(reply.status, 200);
        QCOMPARE(json::parse(reply.body)["type"], json("message"));
        const auto seen = rig->sim(1).recentRequests().back();
        QCOMPARE(seen.target, std::string("/v1/messages"));
        QCOMPARE(seen.header("x-api-key"), std::string("sim-key"));
        QCOMPARE(seen.header("anthropic-version"), std::string("2023-06-01")); // the default when absent
        QCOMPARE(seen.header("anthropic-beta"), std::string("tools-2024"));
        QCOMPARE(json::parse(seen.body)["model"], json("claude-sim"));
        rig->client().post("/v1/messages", messagesRequest("hi", false, "anthropic").dump(),
                           {{"anthropic-version", "2024-01-01"}});
        QCOMPARE(rig->sim(1).recentRequests().back().header("anthropic-version"), std::string("2024-01-01"));
    }

    void aTargetOfTheOtherApiIsSkipped() {
        auto reply = rig->client().post("/v1/messages", messagesRequest("hi", false, "whatever").dump());
        // "default" has only openai-kind providers: nothing can answer a Messages request.
        QCOMPARE(reply.status, 503);
        const json body = json::parse(reply.body);
        QCOMPARE(body["type"], json("error"));
        QCOMPARE(body["fusebox"]["attempts"].size(), size_t{2});
        QVERIFY(body["fusebox"]["attempts"][0]["reason"].get<std::string>().find("speaks the openai API") != std::string::npos);
        QCOMPARE(rig->sim(0).stats().requests, uint64_t{0});
    }

    void embeddings() {
        json request = {{"model", "text-embedding-3-small"}, {"input", "hello"}};
        auto reply = rig->client().post("/v1/embeddings", request.dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(json::parse(reply.body)["object"], json("list"));
        QCOMPARE(rig->sim(0).recentRequests().back().target, std::string("/v1/embeddings"));
    }

    void modelsAndHealth() {
        auto client = rig->client();
        auto health = client.get("/healthz");
        QCOMPARE(health.status, 200);
        QCOMPARE(health.body, std::string("ok"));
        auto models = client.get("/v1/models");
        QCOMPARE(models.status, 200);
        std::set<std::string> ids;
        const json list = json::parse(models.body);
        for (const auto& m : list["data"]) ids.insert(m["id"].get<std::string>());
        QVERIFY(ids.count("default") && ids.count("cheap") && ids.count("anthropic"));
        QVERIFY(ids.count("beta/sim-1-mini") && ids.count("claude/claude-sim"));
    }

    void badRequestsGetTheApisShapeAndNeverReachAProvider() {
        auto client = rig->client();
        auto notJson = client.post("/v1/chat/completions", "{oops");
        QCOMPARE(notJson.status, 400);
        QCOMPARE(json::parse(notJson.body)["error"]["type"], json("invalid_request_error"));
        QVERIFY(notJson.hasHeader("x-request-id"));

        auto noModel = client.post("/v1/chat/completions", R"({"messages": []})");
        QCOMPARE(noModel.status, 400);
        QCOMPARE(json::parse(noModel.body)["error"]["param"], json("model"));

        auto anthropicShape = client.post("/v1/messages", "[1,2]");
        QCOMPARE(anthropicShape.status, 400);
        QCOMPARE(json::parse(anthropicShape.body)["type"], json("error"));
        QCOMPARE(json::parse(anthropicShape.body)["error"]["type"], json("invalid_request_error"));

        auto unknown = client.get("/v2/nothing");
        QCOMPARE(unknown.status, 404);
        QVERIFY(json::parse(unknown.body).contains("error"));

        auto wrongMethod = client.get("/v1/chat/completions");
        QCOMPARE(wrongMethod.status, 405);

        auto tooLarge = rig->client().post("/v1/chat/completions", chatRequest(std::string(5000, 'x')).dump());
        QCOMPARE(tooLarge.status, 413);
        QCOMPARE(json::parse(tooLarge.body)["error"]["code"], json("request_too_large"));

        auto hugeHeader = rig->client().post("/v1/messages", messagesRequest().dump(), {{"x-filler", std::string(4000, 'h')}});
        QCOMPARE(hugeHeader.status, 431);
        QCOMPARE(json::parse(hugeHeader.body)["type"], json("error"));

        Headers many;
        for (int i = 0; i < 120; ++i) many.emplace_back("x-h" + std::to_string(i), "1");
        auto manyHeaders = rig->client().post("/v1/chat/completions", chatRequest().dump(), many);
        QCOMPARE(manyHeaders.status, 431);

        QCOMPARE(rig->sim(0).stats().requests + rig->sim(1).stats().requests, uint64_t{0});
    }

    void noDefaultRouteIsA404InTheApisShape() {
        ProxyRig noDefault(R"({"providers": [{"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"}],
                               "routes": [{"name": "only", "targets": [{"provider": "alpha"}]}]})", 1);
        QVERIFY2(noDefault.ok(), noDefault.error().c_str());
        auto reply = noDefault.client().post("/v1/chat/completions", chatRequest("hi", false, "gpt-4o").dump());
        QCOMPARE(reply.status, 404);
        QCOMPARE(json::parse(reply.body)["error"]["code"], json("model_not_found"));
        auto anthropic = noDefault.client().post("/v1/messages", messagesRequest().dump());
        QCOMPARE(anthropic.status, 404);
        QCOMPARE(json::parse(anthropic.body)["error"]["type"], json("not_found_error"));
    }

    void keepAliveServesManyRequestsOnOneConnection() {
        auto client = rig->client();
        for (int i = 0; i < 20; ++i) QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump()).status, 200);
        QCOMPARE(client.connectionsOpened(), 1);
    }
};

QTEST_GUILESS_MAIN(ProxyRoutingTest)
#include "test_proxy_routing.moc"
