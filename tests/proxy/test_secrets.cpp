// A provider key never leaves Fusebox except toward its provider (CONTRACT §4): traffic with a known key,
// including an upstream error that echoes the key back, then every output is searched for it — the admin
// state, the metrics, the event stream, the config file written back after a route change, and the log lines.
#include "Engine.h"
#include "SimHttpClient.h"
#include "SimRequests.h"
#include "StderrCapture.h"
#include "TestSupport.h"
#include "config/ConfigLoader.h"
#include "core/Log.h"
#include "sim/SimProvider.h"

#include <QFile>
#include <QtTest>


using namespace fusebox;
using namespace fusebox::test;
using boost::beast::http::verb;
using nlohmann::json;

namespace {

const std::string kSecret = "sk-live-AdminSecretNeverShown-91c2e7";

} // namespace

class SecretsTest : public QObject {
    Q_OBJECT

  private slots:
    void noOutputEverShowsTheProviderKey() {
        sim::Options options;
        options.eventInterval = Millis{5};
        options.streamEvents = 3;
        options.apiKey = kSecret;
        sim::SimProvider alphaSim(options), betaSim(options);
        QVERIFY(alphaSim.start());
        QVERIFY(betaSim.start());

        QTemporaryDir dir;
        // Built as JSON (not a raw string literal, which moc cannot read); api_key stays a ${NAME} reference.
        const json provider = {{"kind", "openai"}, {"api_key", "${FUSEBOX_TEST_KEY}"}};
        json alpha = provider, beta = provider;
        alpha["id"] = "alpha";
        alpha["base_url"] = alphaSim.openaiBaseUrl();
        beta["id"] = "beta";
        beta["base_url"] = betaSim.openaiBaseUrl();
        const json configJson = {
            {"listen", "127.0.0.1:0"},
            {"breaker", {{"consecutive_failures", 2}, {"failure_rate", 0}, {"open_s", 30}, {"jitter", 0}}},
            {"providers", {alpha, beta}},
            {"routes",
             {{{"name", "default"}, {"targets", {{{"provider", "alpha"}}, {{"provider", "beta"}}}}}}}};
        const std::string config = configJson.dump(2);
        const std::string configPath = writeTempFile(dir, "fusebox.json", config);
        const std::string logPath = dir.filePath("stderr.log").toStdString();

        std::string state, metrics, events, written, logs;
        {
            StderrCapture capture(logPath);
            Log::setMinimum(LogLevel::Debug);
            LoadOptions load;
            // HOME in the temp dir: the journal (which the key must not reach either) is this test's alone.
            const std::string home = dir.path().toStdString();
            load.env = [home](const std::string& name) -> std::optional<std::string> {
                if (name == "FUSEBOX_TEST_KEY") return kSecret;
                if (name == "HOME") return home;
                return std::nullopt;
            };
            auto loaded = loadConfigFile(configPath, load);
            QVERIFY(loaded.ok());
            Engine engine(std::move(*loaded.config));
            std::string error;
            QVERIFY2(engine.start(error), error.c_str());
            const std::string url = engine.listenUrl();
            const auto port = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));

            SimHttpClient stream(port, std::chrono::seconds(10));
            QVERIFY(stream.writeRaw("GET /admin/v1/events HTTP/1.1\r\nHost: fusebox\r\n\r\n"));
            QVERIFY(!stream.readRawUntil(": connected\n\n").empty());

            SimHttpClient client(port);
            const Headers agentKey = {{"Authorization", "Bearer agent-placeholder"}};
            QCOMPARE(client.post("/v1/chat/completions", chatRequest("hi").dump(), agentKey).status, 200);
            QCOMPARE(client.stream("/v1/chat/completions", chatRequest("hi", true).dump(), agentKey).status,
                     200);
            // The provider rejects the key and echoes it in its error, as OpenAI does.
            alphaSim.setFault(
                sim::Fault::httpError(401).withMessage("Incorrect API key provided: " + kSecret));
            for (int i = 0; i < 3; ++i)
                QCOMPARE(client.post("/v1/chat/completions", chatRequest("hi").dump(), agentKey).status, 200);
            QCOMPARE(engine.breaker("alpha")->state(), BreakerState::Open);
            QCOMPARE(client.post("/admin/v1/providers/beta/force-open", R"({"reason":"check"})").status, 200);
            QCOMPARE(client.post("/admin/v1/providers/beta/reset", "").status, 200);
            QCOMPARE(client
                         .request(verb::put, "/admin/v1/routes/default",
                                  R"({"targets":[{"provider":"beta"},{"provider":"alpha"}]})")
                         .status,
                     200);

            state = client.get("/admin/v1/state").body;
            metrics = client.get("/metrics").body;
            // Read the stream up to the route event, the last thing that happened.
            for (;;) {
                const std::string block = stream.readRawUntil("\n\n");
                QVERIFY2(!block.empty(), events.c_str());
                events += block;
                if (block.find("\"type\":\"route\"") != std::string::npos) break;
            }
            QVERIFY(events.find("\"type\":\"breaker\"") != std::string::npos);
            QVERIFY(events.find("\"type\":\"operator\"") != std::string::npos);
            engine.stop(std::chrono::milliseconds(2000));
        }
        Log::setMinimum(LogLevel::Info);
        written = readFile(configPath);
        logs = readFile(logPath);
        // The journal, main file and write-ahead log both: every attempt and event above is in it.
        const std::string journalPath = dir.path().toStdString() + "/.local/share/fusebox/journal.db";
        std::string journal = readFile(journalPath) + readFile(journalPath + "-wal");
        QVERIFY2(journal.find("default") != std::string::npos, "the journal holds nothing: nothing was checked");

        // The key was really in use: the sims received it.
        QCOMPARE(betaSim.recentRequests().front().header("authorization"), "Bearer " + kSecret);
        QVERIFY2(written.find("${FUSEBOX_TEST_KEY}") != std::string::npos, written.c_str());
        QVERIFY(written.find("\"beta\"") < written.find("\"provider\": \"alpha\"") ||
                parseJson(written)["routes"][0]["targets"][0]["provider"] == "beta");
        QVERIFY2(!logs.empty(), "no log lines were captured");
        QVERIFY2(state.find("alpha") != std::string::npos, state.c_str());
        QVERIFY2(metrics.find("fusebox_requests_total") != std::string::npos, metrics.c_str());

        const std::pair<const char*, const std::string*> outputs[] = {{"/admin/v1/state", &state},
                                                                      {"/metrics", &metrics},
                                                                      {"event stream", &events},
                                                                      {"config written back", &written},
                                                                      {"log output", &logs},
                                                                      {"journal", &journal}};
        for (const auto& [what, text] : outputs)
            QVERIFY2(text->find(kSecret) == std::string::npos,
                     (std::string(what) + " shows the key:\n" + *text).c_str());
        // Not even a recognisable piece of it.
        for (const auto& [what, text] : outputs)
            QVERIFY2(text->find("AdminSecretNeverShown") == std::string::npos, what);
    }
};

QTEST_GUILESS_MAIN(SecretsTest)
#include "test_secrets.moc"
