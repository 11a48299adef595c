// POST /v1/responses through the proxy (CONTRACT §3): OpenAI's Responses API with everything Chat Completions
// has: routing by model, the body passed on untouched but for `model`, answers relayed byte for byte, the stream
// commit point at the first output (not at response.created), failover before it on response.failed, an error
// event, a cut or a stall, an explicit error event after it (never a response.completed), usage and spend from
// response.completed, the 503 in OpenAI's shape, and "api": "chat" providers never asked at /responses.
#include "ProxyRig.h"
#include "RawHttpServer.h"
#include "SimRequests.h"
#include "sim/SimResponses.h"

#include <QtTest>

#include <sstream>

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
    {"id": "chatty", "kind": "openai", "api": "chat", "base_url": "${SIM1}", "api_key": "sim-key"}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "alpha"}, {"provider": "beta"}]},
    {"name": "gpt", "targets": [{"provider": "alpha", "model": "gpt-4o"}, {"provider": "beta", "model": "gpt-4o"}]},
    {"name": "chatonly", "targets": [{"provider": "chatty", "model": "gpt-4o"}]},
    {"name": "mixed", "targets": [{"provider": "chatty", "model": "gpt-4o"}, {"provider": "alpha", "model": "gpt-4o"}]}
  ]
})";

// What Codex sends: everything here must reach the provider as it is.
json codexRequest(bool stream, const std::string& model = "gpt-5-codex") {
    return {{"model", model},
            {"instructions", "You are a coding agent."},
            {"input", {{{"type", "message"}, {"role", "user"}, {"content", {{{"type", "input_text"}, {"text", "hi"}}}}}}},
            {"tools",
             {{{"type", "function"}, {"name", "shell"}, {"description", "run"}, {"strict", false},
               {"parameters", {{"type", "object"}, {"properties", json::object()}}}},
              {{"type", "namespace"}, {"name", "mcp"}, {"tools", json::array()}},
              {{"type", "web_search"}}}},
            {"tool_choice", "auto"},
            {"parallel_tool_calls", false},
            {"reasoning", {{"effort", "medium"}, {"summary", "auto"}}},
            {"store", false},
            {"stream", stream},
            {"include", {"reasoning.encrypted_content"}},
            {"prompt_cache_key", "0199-session"},
            {"client_metadata", {{"turn", 3}}}};
}

std::string sse(const std::string& type, json data) {
    data["type"] = type;
    return "event: " + type + "\ndata: " + data.dump() + "\n\n";
}

std::string textOf(const StreamReply& reply) {
    std::string text;
    for (const auto& e : reply.events)
        if (e.event == "response.output_text.delta") text += json::parse(e.data)["delta"].get<std::string>();
    return text;
}

bool has(const StreamReply& reply, const std::string& event) {
    for (const auto& e : reply.events)
        if (e.event == event) return true;
    return false;
}

// The journal's row for the last attempt at `provider`: time, request_id, route, provider, model, outcome,
// status, ttfb_ms, duration_ms, input_tokens, output_tokens, usd, delivered.
std::vector<std::vector<std::string>> attemptsAt(ProxyRig& rig, const std::string& provider) {
    const auto until = std::chrono::system_clock::now() + std::chrono::hours(1);
    std::istringstream csv(rig.engine().attemptsCsv(WallTime{}, until));
    std::vector<std::vector<std::string>> found;
    for (std::string line; std::getline(csv, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::vector<std::string> columns;
        std::istringstream row(line);
        for (std::string column; std::getline(row, column, ',');) columns.push_back(column);
        if (columns.size() == 13 && columns[3] == provider) found.push_back(std::move(columns));
    }
    return found;
}

std::vector<std::string> lastAttemptAt(ProxyRig& rig, const std::string& provider) {
    auto rows = attemptsAt(rig, provider);
    return rows.empty() ? std::vector<std::string>{} : rows.back();
}

// One scripted provider (`raw`, reached first) in front of the sim (`sim`) on route `default`.
std::unique_ptr<ProxyRig> rawThenSim(const RawHttpServer& raw, int idleMs = 5000) {
    const json config = {
        {"breaker", {{"consecutive_failures", 0}, {"failure_rate", 0}}},
        {"providers",
         {{{"id", "raw"}, {"kind", "openai"}, {"base_url", raw.url("/v1")}, {"api_key", "k"},
           {"timeouts_ms", {{"idle", idleMs}}}},
          {{"id", "sim"}, {"kind", "openai"}, {"base_url", "${SIM0}"}, {"api_key", "sim-key"}}}},
        {"routes", {{{"name", "default"}, {"targets", {{{"provider", "raw"}}, {{"provider", "sim"}}}}}}}};
    return std::make_unique<ProxyRig>(config.dump(), 1);
}

RawHttpServer::Script streamScript(const std::string& events, bool hangAfter = false) {
    RawHttpServer::Script script{RawHttpServer::send(RawHttpServer::chunkedHead(200) + RawHttpServer::chunk(events))};
    script.push_back(hangAfter ? RawHttpServer::hang() : RawHttpServer::send(std::string(RawHttpServer::kLastChunk)));
    return script;
}

const json kCreated = {{"response", {{"id", "resp_1"}, {"object", "response"}, {"status", "in_progress"}}},
                       {"sequence_number", 0}};

} // namespace

class ResponsesApiTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;

private slots:
    void init() {
        rig = std::make_unique<ProxyRig>(kConfig, 2);
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void aWholeAnswerIsRelayedByteForByte() {
        const std::string body = R"({"id":"resp_9","object":"response","status":"completed","model":"m",)"
                                 R"("output":[{"type":"message","role":"assistant","content":)"
                                 R"([{"type":"output_text","text":"ok","annotations":[]}]}],)"
                                 R"("usage":{"input_tokens":11,"output_tokens":2,"total_tokens":13}}  )";
        RawHttpServer raw(RawHttpServer::Script{RawHttpServer::send(
            RawHttpServer::response(200, body, {{"Content-Type", "application/json"}}))});
        auto proxy = rawThenSim(raw);
        QVERIFY2(proxy->ok(), proxy->error().c_str());
        auto reply = proxy->client().post("/v1/responses", codexRequest(false).dump(), {{"Authorization", "Bearer x"}});
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.body, body);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("raw"));
        QCOMPARE(reply.header("x-fusebox-route"), std::string("default"));
        QCOMPARE(reply.header("x-fusebox-attempts"), std::string("1"));
        QVERIFY(!reply.header("x-request-id").empty());
        const auto seen = raw.requests();
        QCOMPARE(seen.size(), std::size_t{1});
        QCOMPARE(seen[0].target, std::string("/v1/responses"));
        QCOMPARE(json::parse(seen[0].body), codexRequest(false)); // nothing added, nothing lost
        QVERIFY(seen[0].head.find("Bearer x") == std::string::npos);
        std::vector<std::string> row;
        QTRY_VERIFY_WITH_TIMEOUT(!(row = lastAttemptAt(*proxy, "raw")).empty(), 5000);
        QCOMPARE(row[9], std::string("11"));
        QCOMPARE(row[10], std::string("2"));
    }

    void aStreamIsRelayedEventByEventAsItCame() {
        std::string events = sse("response.created", kCreated);
        events += sse("response.output_item.added", {{"item", {{"type", "message"}}}, {"sequence_number", 1}});
        events += sse("response.output_text.delta", {{"delta", "Hel"}, {"sequence_number", 2}});
        events += sse("response.output_text.delta", {{"delta", "lo"}, {"sequence_number", 3}});
        events += sse("response.completed",
                      {{"response", {{"id", "resp_1"}, {"status", "completed"}, {"output", json::array()},
                                     {"usage", {{"input_tokens", 40}, {"output_tokens", 9},
                                                {"input_tokens_details", {{"cached_tokens", 8}}},
                                                {"output_tokens_details", {{"reasoning_tokens", 4}}}}}}},
                       {"sequence_number", 4}});
        RawHttpServer raw(streamScript(events));
        auto proxy = rawThenSim(raw);
        auto reply = proxy->client().stream("/v1/responses", codexRequest(true).dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(reply.status, 200);
        std::string relayed;
        for (const auto& e : reply.events) relayed += "event: " + e.event + "\ndata: " + e.data + "\n\n";
        QCOMPARE(relayed, events);
        // No stream_options: a Responses stream always ends with its usage.
        QVERIFY(!json::parse(raw.requests()[0].body).contains("stream_options"));
        std::vector<std::string> row;
        QTRY_VERIFY_WITH_TIMEOUT(!(row = lastAttemptAt(*proxy, "raw")).empty(), 5000);
        QCOMPARE(row[5], std::string("success"));
        QCOMPARE(row[9], std::string("40"));
        QCOMPARE(row[10], std::string("9"));
        QCOMPARE(row[12], std::string("true"));
    }

    void theSimStreamsThroughWithTheTargetsModel() {
        auto reply = rig->client().stream("/v1/responses", codexRequest(true, "gpt").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        QCOMPARE(textOf(reply), sim::contentText(5));
        QCOMPARE(reply.events.front().event, std::string("response.created"));
        QCOMPARE(reply.events.back().event, std::string("response.completed"));
        const auto sent = rig->sim(0).recentRequests().back();
        QCOMPARE(sent.target, std::string("/v1/responses"));
        json expected = codexRequest(true, "gpt-4o");
        QCOMPARE(json::parse(sent.body), expected);
        QCOMPARE(sent.header("authorization"), std::string("Bearer sim-key"));
        // Whole, too.
        auto whole = rig->client().post("/v1/responses", codexRequest(false, "gpt").dump());
        QCOMPARE(whole.status, 200);
        const json answer = json::parse(whole.body);
        QCOMPARE(answer["object"], json("response"));
        QCOMPARE(answer["model"], json("gpt-4o"));
        QCOMPARE(answer["output"][0]["content"][0]["text"], json(sim::contentText(5)));
    }

    void usageAndSpendComeFromResponseCompleted() {
        sim::Options options = ProxyRig::fastSimOptions();
        options.inputTokens = 1000;
        options.cacheReadTokens = 400;
        ProxyRig priced(kConfig, 2, options);
        QVERIFY2(priced.ok(), priced.error().c_str());
        auto reply = priced.client().stream("/v1/responses", codexRequest(true, "gpt").dump());
        QCOMPARE(reply.status, 200);
        std::vector<std::string> row;
        QTRY_VERIFY_WITH_TIMEOUT(!(row = lastAttemptAt(priced, "alpha")).empty(), 5000);
        QCOMPARE(row[9], std::string("1000"));
        QCOMPARE(row[10], std::string("5"));
        // gpt-4o: $2.50 in, $1.25 cached in (cached tokens are inside input_tokens, as in Chat Completions),
        // $10 out, per million.
        const double expected = (600 * 2.5 + 400 * 1.25 + 5 * 10.0) / 1e6;
        QVERIFY2(std::abs(std::stod(row[11]) - expected) < 1e-8, row[11].c_str());
        // A whole answer's usage is the body's.
        auto whole = priced.client().post("/v1/responses", codexRequest(false, "gpt").dump());
        QCOMPARE(whole.status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(attemptsAt(priced, "alpha").size(), std::size_t{2}, 5000);
        QCOMPARE(lastAttemptAt(priced, "alpha")[9], std::string("1000"));
        QCOMPARE(lastAttemptAt(priced, "alpha")[10], std::string("5"));
    }

    void responseFailedBeforeOutputFailsOver() {
        rig->sim(0).setFault(sim::Fault::streamError(0));
        auto reply = rig->client().stream("/v1/responses", codexRequest(true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("beta"));
        QCOMPARE(reply.header("x-fusebox-attempts"), std::string("2"));
        QCOMPARE(textOf(reply), sim::contentText(5));
        QVERIFY(!has(reply, "response.failed"));
        // alpha's response.created was held back, never relayed: one response.created only.
        int created = 0;
        for (const auto& e : reply.events) created += e.event == "response.created";
        QCOMPARE(created, 1);
        QCOMPARE(rig->engine().snapshot().findProvider("alpha")->breaker.window.count(Outcome::ServerError), 1u);
    }

    void anErrorEventBeforeOutputFailsOver() {
        std::string events = sse("response.created", kCreated);
        events += sse("response.in_progress", kCreated);
        events += sse("error", {{"code", "rate_limit_exceeded"}, {"message", "slow down"}, {"param", nullptr},
                                {"sequence_number", 2}});
        RawHttpServer raw(streamScript(events));
        auto proxy = rawThenSim(raw);
        auto reply = proxy->client().stream("/v1/responses", codexRequest(true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("sim"));
        QCOMPARE(textOf(reply), sim::contentText(5));
        QVERIFY(!has(reply, "error"));
        std::vector<std::string> row;
        QTRY_VERIFY_WITH_TIMEOUT(!(row = lastAttemptAt(*proxy, "raw")).empty(), 5000);
        QCOMPARE(row[5], std::string("rate_limited"));
    }

    void aCutOrAStallBeforeOutputFailsOver() {
        rig->sim(0).setFault(sim::Fault::cutStream(0));
        auto cut = rig->client().stream("/v1/responses", codexRequest(true).dump());
        QCOMPARE(cut.header("x-fusebox-provider"), std::string("beta"));
        QVERIFY(has(cut, "response.completed"));

        // Announced, then silent past `idle`.
        RawHttpServer raw(streamScript(sse("response.created", kCreated), true));
        auto proxy = rawThenSim(raw, 300);
        auto stalled = proxy->client().stream("/v1/responses", codexRequest(true).dump());
        QCOMPARE(stalled.status, 200);
        QCOMPARE(stalled.header("x-fusebox-provider"), std::string("sim"));
        QCOMPARE(textOf(stalled), sim::contentText(5));
        QCOMPARE(proxy->engine().snapshot().findProvider("raw")->breaker.window.count(Outcome::Timeout), 1u);
    }

    void anOutputItemWithoutDeltasCommitsToo() {
        std::string events = sse("response.created", kCreated);
        events += sse("response.output_item.done",
                      {{"item", {{"type", "function_call"}, {"name", "shell"}, {"arguments", "{}"}, {"call_id", "c1"}}},
                       {"sequence_number", 1}});
        RawHttpServer raw(streamScript(events, true)); // then it stalls: committed, so no fallback
        auto proxy = rawThenSim(raw, 300);
        auto reply = proxy->client().stream("/v1/responses", codexRequest(true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("raw"));
        QVERIFY(has(reply, "response.output_item.done"));
        QCOMPARE(reply.events.back().event, std::string("error"));
        QCOMPARE(proxy->sim(0).stats().requests, uint64_t{0});
    }

    void aCutAfterOutputEndsWithAnErrorEventNeverACompletion() {
        rig->sim(0).setFault(sim::Fault::cutStream(2));
        auto reply = rig->client().stream("/v1/responses", codexRequest(true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        QCOMPARE(textOf(reply), sim::contentText(2));
        QVERIFY(!has(reply, "response.completed"));
        const auto& last = reply.events.back();
        QCOMPARE(last.event, std::string("error"));
        const json data = json::parse(last.data);
        QCOMPARE(data["type"], json("error"));
        QCOMPARE(data["code"], json("upstream_stream_interrupted"));
        QVERIFY(data["message"].get<std::string>().find("alpha") != std::string::npos);
        QVERIFY(data.contains("param"));
        QCOMPARE(data["error"]["message"], data["message"]); // as the live API nests it too
        // Numbered on from the last relayed event (created, in_progress, item, part, 2 deltas: 0..5).
        QCOMPARE(data["sequence_number"], json(6));
        QCOMPARE(rig->sim(1).stats().requests, uint64_t{0}); // committed: no fallback
        QTRY_COMPARE(rig->engine().snapshot().findProvider("alpha")->breaker.window.count(Outcome::BadResponse), 1u);
    }

    void responseFailedAfterOutputIsRelayedAndEndsTheStream() {
        rig->sim(0).setFault(sim::Fault::streamError(2));
        auto reply = rig->client().stream("/v1/responses", codexRequest(true).dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        QCOMPARE(textOf(reply), sim::contentText(2));
        QCOMPARE(reply.events.back().event, std::string("response.failed"));
        QVERIFY(!has(reply, "response.completed"));
        QCOMPARE(rig->sim(1).stats().requests, uint64_t{0});
    }

    void whenNothingCanAnswerThe503IsOpenAisShape() {
        rig->sim(0).setFault(sim::Fault::httpError(500));
        rig->sim(1).setFault(sim::Fault::httpError(502));
        auto reply = rig->client().post("/v1/responses", codexRequest(true).dump());
        QCOMPARE(reply.status, 503);
        QVERIFY(!reply.header("retry-after").empty());
        const json body = json::parse(reply.body);
        QCOMPARE(body["error"]["type"], json("upstream_unavailable"));
        QCOMPARE(body["error"]["code"], json("upstream_unavailable"));
        QCOMPARE(body["error"]["fusebox"]["route"], json("default"));
        QCOMPARE(body["error"]["fusebox"]["attempts"].size(), std::size_t{2});
        QCOMPARE(body["error"]["fusebox"]["attempts"][0]["outcome"], json("server_error"));
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("none"));
    }

    void aChatOnlyProviderIsNeverAskedAtResponses() {
        // "api": "chat": the request reaches it translated to Chat Completions, or, where the translation
        // cannot carry it, the target is skipped with the reason. Never at /responses.
        auto reply = rig->client().post("/v1/responses", codexRequest(false, "chatonly").dump());
        QCOMPARE(rig->requestsAt(1, "/v1/responses"), 0);
        if (reply.status == 503) {
            const json attempt = json::parse(reply.body)["error"]["fusebox"]["attempts"][0];
            QCOMPARE(attempt["provider"], json("chatty"));
            QCOMPARE(attempt["outcome"], json("client_error"));
            const std::string reason = attempt["reason"];
            QVERIFY2(reason.find("Chat Completions only") != std::string::npos, reason.c_str());
        } else {
            QCOMPARE(reply.status, 200);
            QCOMPARE(rig->requestsAt(1, "/v1/chat/completions"), 1);
        }
    }

    void providerSideStateGoesToAProviderThatServesResponses() {
        json request = codexRequest(false, "mixed");
        request["previous_response_id"] = "resp_earlier";
        auto reply = rig->client().post("/v1/responses", request.dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        QCOMPARE(json::parse(rig->sim(0).recentRequests().back().body)["previous_response_id"], json("resp_earlier"));
        QCOMPARE(rig->requestsAt(1, "/v1/chat/completions") + rig->requestsAt(1, "/v1/responses"), 0);
        // With no such provider on the route, the 503 says why the chat-only one was skipped.
        auto refused = rig->client().post("/v1/responses", [&] {
            json r = codexRequest(false, "chatonly");
            r["previous_response_id"] = "resp_earlier";
            return r.dump();
        }());
        QCOMPARE(refused.status, 503);
        const json attempt = json::parse(refused.body)["error"]["fusebox"]["attempts"][0];
        QCOMPARE(attempt["outcome"], json("client_error"));
        QVERIFY(!attempt["reason"].get<std::string>().empty());
    }

    void badRequestsGetOpenAisShape() {
        auto noModel = rig->client().post("/v1/responses", json{{"input", "hi"}}.dump());
        QCOMPARE(noModel.status, 400);
        QCOMPARE(json::parse(noModel.body)["error"]["param"], json("model"));
        auto badStream = rig->client().post("/v1/responses", json{{"model", "m"}, {"stream", "yes"}}.dump());
        QCOMPARE(badStream.status, 400);
        QVERIFY(json::parse(badStream.body)["error"]["message"].get<std::string>().find("stream") != std::string::npos);
        auto get = rig->client().get("/v1/responses");
        QCOMPARE(get.status, 405);
    }
};

QTEST_GUILESS_MAIN(ResponsesApiTest)
#include "test_responses_api.moc"
