// A client can send anything; one request must never take the process (and every agent's streams) with it.
// Each case here killed Fusebox once: a field of an unexpected type, nesting deeper than the serializer's stack,
// a model name too long for a header or holding CR LF, a HEAD answered with a body, a transfer coding that
// would smuggle a second request. After each, the proxy must still answer an ordinary request.
#include "ProxyRig.h"
#include "SimRequests.h"
#include "TestSupport.h"

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
    {"name": "default", "targets": [{"provider": "gpt"}]},
    {"name": "to-claude", "targets": [{"provider": "claude", "model": "claude-sim"}]},
    {"name": "to-gpt", "targets": [{"provider": "gpt", "model": "gpt-sim"}]}
  ]
})";

std::string nested(int depth, const std::string& inner = "1") {
    return std::string(static_cast<std::size_t>(depth), '[') + inner + std::string(static_cast<std::size_t>(depth), ']');
}

} // namespace

class HostileClientsTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;

    // A 400 in the API's own shape whose message names `field`.
    void expectBadRequest(const std::string& path, const json& body, const std::string& field) {
        auto reply = rig->client().post(path, body.dump());
        QVERIFY2(reply.status == 400, (std::to_string(reply.status) + " " + reply.body).c_str());
        const json error = parseJson(reply.body);
        QVERIFY2(!error.is_discarded(), reply.body.c_str());
        const bool anthropic = path.starts_with("/v1/messages");
        const std::string message = anthropic ? error["error"]["message"].get<std::string>()
                                              : error["error"]["message"].get<std::string>();
        if (anthropic) QCOMPARE(error["type"], json("error"));
        QVERIFY2(message.find(field) != std::string::npos, (field + " not named in: " + message).c_str());
    }

private slots:
    void init() {
        rig = std::make_unique<ProxyRig>(kConfig, 2, quickSimOptions(3));
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void fieldsOfTheWrongTypeAreA400NamingTheField() {
        json body = chatRequest("hi", true);
        body["stream_options"] = 5;
        expectBadRequest("/v1/chat/completions", body, "stream_options");

        body["stream_options"] = {{"include_usage", "yes"}};
        expectBadRequest("/v1/chat/completions", body, "stream_options.include_usage");

        // The fields the translation to the other API reads.
        json chat = chatRequest("hi", false, "to-claude");
        chat["messages"][0]["role"] = 5;
        expectBadRequest("/v1/chat/completions", chat, "messages[0].role");

        chat = chatRequest("hi", false, "to-claude");
        chat["messages"][0]["content"] = json::array({{{"type", 5}, {"text", "hi"}}});
        expectBadRequest("/v1/chat/completions", chat, "messages[0].content[0].type");

        chat = chatRequest("hi", false, "to-claude");
        chat["response_format"] = {{"type", 5}};
        expectBadRequest("/v1/chat/completions", chat, "response_format.type");

        json messages = messagesRequest("hi", false, "to-gpt");
        messages["thinking"] = {{"type", 5}};
        expectBadRequest("/v1/messages", messages, "thinking.type");

        messages = messagesRequest("hi", false, "to-gpt");
        messages["system"] = json::array({{{"type", 7}, {"text", "be brief"}}});
        expectBadRequest("/v1/messages", messages, "system[0].type");

        QCOMPARE(rig->ordinaryChatStatus(), 200); // still serves
    }

    void theStockConfigWithNoKeysSurvivesATypeError() {
        // The default config's route mixes the two APIs and no key is set: the translation ran before the key
        // check, and threw.
        rig.reset();
        rig = std::make_unique<ProxyRig>(R"({
          "providers": [
            {"id": "openai", "kind": "openai", "base_url": "${SIM0}", "api_key": "${FUSEBOX_TEST_UNSET_KEY}"},
            {"id": "anthropic", "kind": "anthropic", "base_url": "${SIM1_ROOT}", "api_key": "${FUSEBOX_TEST_UNSET_KEY}"}
          ],
          "routes": [{"name": "default", "targets": [{"provider": "openai"}, {"provider": "anthropic", "model": "claude-sim"}]}]
        })");
        QVERIFY2(rig->ok(), rig->error().c_str());
        json body = chatRequest("hi");
        body["messages"][0]["role"] = 5;
        auto reply = rig->client().post("/v1/chat/completions", body.dump());
        QVERIFY2(reply.status == 400 || reply.status == 503, reply.body.c_str());
        QCOMPARE(rig->client().get("/healthz").status, 200);
    }

    void deepNestingIsRefusedBeforeAnythingRecursesOverIt() {
        const std::string deep = nested(100000);
        // Streamed (the body is re-serialized to ask for usage) and on a cross-API route (inside `stop`).
        const std::string streamed = R"({"model":"gpt-sim","stream":true,"messages":[{"role":"user","content":"hi"}],"x":)" + deep + "}";
        auto reply = rig->client().post("/v1/chat/completions", streamed);
        QCOMPARE(reply.status, 400);
        QVERIFY2(reply.body.find("deeper than 128") != std::string::npos, reply.body.c_str());

        const std::string cross = R"({"model":"to-claude","messages":[{"role":"user","content":"hi"}],"stop":)" + deep + "}";
        reply = rig->client().post("/v1/chat/completions", cross);
        QCOMPARE(reply.status, 400);

        // 128 levels are fine.
        const std::string ok = R"({"model":"gpt-sim","stream":true,"messages":[{"role":"user","content":"hi"}],"x":)" + nested(120) + "}";
        QCOMPARE(rig->client().stream("/v1/chat/completions", ok).status, 200);
        QCOMPARE(rig->ordinaryChatStatus(), 200); // still serves
    }

    void aHugeModelNameIsClippedInOurHeaders() {
        const std::string model = "gpt/" + std::string(64 * 1024, 'm');
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi", false, model).dump());
        QCOMPARE(reply.status, 200); // the sim answers any model
        QVERIFY(reply.header("x-fusebox-route").size() <= 260);
        QVERIFY(reply.header("x-fusebox-route").starts_with("gpt/mmm"));
        QCOMPARE(rig->ordinaryChatStatus(), 200); // still serves
    }

    void modelNamesNoRouteNamesShareOneMetricsSeries() {
        auto client = rig->client();
        for (int i = 0; i < 30; ++i)
            QCOMPARE(client.post("/v1/chat/completions", chatRequest("hi", false, "gpt/made-up-" + std::to_string(i)).dump()).status,
                     200);
        const std::string metrics = client.get("/metrics").body;
        QVERIFY(metrics.find("made-up-") == std::string::npos);
        QVERIFY(metrics.find("route=\"gpt/*\"") != std::string::npos);
    }

    void aHugeModelNameIsJournaledClipped() {
        const auto since = std::chrono::system_clock::now() - std::chrono::seconds(5);
        const std::string model = "gpt/" + std::string(1024 * 1024, 'q');
        QCOMPARE(rig->client().post("/v1/chat/completions", chatRequest("hi", false, model).dump()).status, 200);
        std::string csv;
        QTRY_VERIFY_WITH_TIMEOUT(
            (csv = rig->engine().attemptsCsv(since, std::chrono::system_clock::now() + std::chrono::seconds(5)))
                    .find("qqqq") != std::string::npos,
            5000);
        QVERIFY2(csv.size() < 4096, std::to_string(csv.size()).c_str());
    }

    void aModelWithCrLfInjectsNoHeader() {
        const std::string model = "gpt/x\r\nx-injected: yes\r\nSet-Cookie: a=b";
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi", false, model).dump());
        QCOMPARE(reply.status, 200);
        QVERIFY(!reply.hasHeader("x-injected"));
        QVERIFY(!reply.hasHeader("set-cookie"));
        QVERIFY(reply.header("x-fusebox-route").find('\n') == std::string::npos);
        // And the same for a 404 (no route matched, no default here).
        QCOMPARE(rig->ordinaryChatStatus(), 200); // still serves
    }

    void headAnswersCarryNoBody() {
        auto client = rig->client();
        for (const std::string target : {"/healthz", "/", "/v1/models", "/no/such/path"}) {
            QVERIFY(client.writeRaw("HEAD " + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
            const std::string head = client.readRawUntil("\r\n\r\n");
            QVERIFY2(!head.empty(), target.c_str());
            if (target == "/" || target == "/healthz" || target == "/v1/models")
                QVERIFY2(head.starts_with("HTTP/1.1 200"), head.c_str());
            else
                QVERIFY2(head.starts_with("HTTP/1.1 404"), head.c_str());
        }
        // Had any HEAD answer carried a body, its bytes would now stand before this answer on the connection.
        QVERIFY(client.writeRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
        const std::string next = client.readRawUntil("\r\n\r\n");
        QVERIFY2(next.starts_with("HTTP/1.1 200"), next.c_str());
    }

    void aTransferCodingOtherThanChunkedIsRefused() {
        auto client = rig->client();
        const std::string smuggled = "GET /admin/v1/state HTTP/1.1\r\nHost: x\r\n\r\n";
        const std::string body = json(chatRequest("hi")).dump();
        QVERIFY(client.writeRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n"
                                "Content-Type: application/json\r\n\r\n" +
                                smuggled));
        const auto reply = client.readReply();
        QCOMPARE(reply.status, 400);
        QCOMPARE(rig->ordinaryChatStatus(), 200); // still serves
    }
};

QTEST_GUILESS_MAIN(HostileClientsTest)
#include "test_hostile_clients.moc"
