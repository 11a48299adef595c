// GET /metrics (CONTRACT §4): the exact metric names, counts that follow real traffic, and an exposition that
// Prometheus' own checker accepts.
#include "ProxyRig.h"
#include "SimRequests.h"

#include <QProcess>
#include <QStandardPaths>
#include <QtTest>

using namespace fusebox;
using namespace fusebox::test;

namespace {

const char* kConfig = R"({
  "breaker": {"consecutive_failures": 2, "failure_rate": 0, "open_s": 30, "jitter": 0},
  "providers": [
    {"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"},
    {"id": "beta", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key"}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "alpha"}, {"provider": "beta"}]}
  ]
})";

bool hasLine(const std::string& body, const std::string& line) {
    return body.find("\n" + line + "\n") != std::string::npos;
}

} // namespace

class MetricsTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;
    std::string body;

  private slots:
    void initTestCase() {
        rig = std::make_unique<ProxyRig>(kConfig);
        QVERIFY2(rig->ok(), rig->error().c_str());
        auto client = rig->client();
        // 3 successes at alpha; then alpha fails twice (opens), beta answers; then alpha is short-circuited
        // once.
        for (int i = 0; i < 3; ++i)
            QCOMPARE(client.post("/v1/chat/completions", chatRequest("Hello there!").dump()).status, 200);
        rig->sim(0).setFault(sim::Fault::httpError(500));
        for (int i = 0; i < 3; ++i)
            QCOMPARE(client.post("/v1/chat/completions", chatRequest("Hello there!").dump()).status, 200);
        auto reply = client.get("/metrics");
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.header("content-type").starts_with("text/plain"));
        QVERIFY(reply.hasHeader("x-request-id"));
        body = reply.body;
    }
    void cleanupTestCase() { rig.reset(); }

    void everyFamilyHasHelpAndType() {
        for (const char* name :
             {"fusebox_breaker_state", "fusebox_requests_total", "fusebox_upstream_duration_seconds",
              "fusebox_spend_usd_total", "fusebox_tokens_total", "fusebox_breaker_transitions_total"}) {
            QVERIFY2(body.find(std::string("# HELP ") + name + " ") != std::string::npos, name);
            QVERIFY2(body.find(std::string("# TYPE ") + name + " ") != std::string::npos, name);
        }
        QVERIFY(body.find("# TYPE fusebox_upstream_duration_seconds histogram") != std::string::npos);
    }

    void valuesFollowTraffic() {
        QVERIFY2(hasLine(body, R"(fusebox_breaker_state{provider="alpha",state="open"} 1)"), body.c_str());
        QVERIFY(hasLine(body, R"(fusebox_breaker_state{provider="alpha",state="closed"} 0)"));
        QVERIFY(hasLine(body, R"(fusebox_breaker_state{provider="beta",state="closed"} 1)"));
        QVERIFY(hasLine(body, R"(fusebox_breaker_transitions_total{provider="alpha",to="open"} 1)"));
        QVERIFY(
            hasLine(body, R"(fusebox_requests_total{route="default",provider="alpha",outcome="success"} 3)"));
        QVERIFY(hasLine(
            body, R"(fusebox_requests_total{route="default",provider="alpha",outcome="server_error"} 2)"));
        QVERIFY(hasLine(
            body, R"(fusebox_requests_total{route="default",provider="alpha",outcome="short_circuited"} 1)"));
        QVERIFY(
            hasLine(body, R"(fusebox_requests_total{route="default",provider="beta",outcome="success"} 3)"));
        // Refusals made no network call: not in the duration histogram.
        QVERIFY(hasLine(body, R"(fusebox_upstream_duration_seconds_count{provider="alpha"} 5)"));
        QVERIFY(hasLine(body, R"(fusebox_upstream_duration_seconds_bucket{provider="alpha",le="+Inf"} 5)"));
        // The sim counts ceil(bytes / 4) tokens: every success reported usage.
        QVERIFY(body.find(R"(fusebox_tokens_total{provider="beta",direction="input"} )") !=
                std::string::npos);
        QVERIFY(!hasLine(body, R"(fusebox_tokens_total{provider="beta",direction="output"} 0)"));
        // No prices yet: spend is zero dollars counted, present for every provider.
        QVERIFY(body.find(R"(fusebox_spend_usd_total{provider="alpha"} )") != std::string::npos);
    }

    void promtoolAcceptsIt() {
        const QString promtool = QStandardPaths::findExecutable("promtool");
        if (promtool.isEmpty())
            QSKIP("promtool is not installed (scripts/setup installs Debian's prometheus package)");
        QProcess process;
        process.start(promtool, {"check", "metrics"});
        QVERIFY(process.waitForStarted());
        process.write(body.data(), static_cast<qint64>(body.size()));
        process.closeWriteChannel();
        QVERIFY(process.waitForFinished(30000));
        const QByteArray output = process.readAllStandardOutput() + process.readAllStandardError();
        QVERIFY2(process.exitCode() == 0, output.constData());
    }
};

QTEST_GUILESS_MAIN(MetricsTest)
#include "test_metrics.moc"
