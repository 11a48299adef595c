// The real executable, headless (CONTRACT §1): listens on the printed port, drains a stream in flight on
// SIGTERM and exits 0, logs JSON lines with request ids, and never prints the provider's key.
#include "SimHttpClient.h"
#include "SimRequests.h"
#include "TestSupport.h"
#include "sim/SimProvider.h"

#include <QProcess>
#include <QtTest>

#include <csignal>
#include <future>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

const std::string kProviderKey = "sk-live-FuseboxTestSecret-7f3a9c";

class Headless {
public:
    Headless(const std::string& config, const QStringList& extra = {}) {
        m_path = writeTempFile(m_dir, "fusebox.json", config);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("XDG_DATA_HOME", m_dir.path()); // the journal goes to the test's own directory
        env.insert("TEST_PROVIDER_KEY", QString::fromStdString(kProviderKey));
        m_process.setProcessEnvironment(env);
        m_process.start(QString::fromLocal8Bit(qgetenv("FUSEBOX_BINARY_DIR")) + "/app/fusebox",
                        QStringList{"--headless", "--config", QString::fromStdString(m_path), "--listen",
                                    "127.0.0.1:0"} + extra);
    }
    ~Headless() {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    // The port from "fusebox: listening on http://127.0.0.1:PORT", or 0.
    uint16_t waitForPort() {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 10'000) {
            m_process.waitForReadyRead(200);
            m_out += m_process.readAllStandardOutput();
            const int at = m_out.indexOf("listening on http://127.0.0.1:");
            const int end = m_out.indexOf('\n', at);
            if (at >= 0 && end > at) return static_cast<uint16_t>(m_out.mid(at + 30, end - at - 30).toInt());
        }
        return 0;
    }
    void terminate() { ::kill(static_cast<pid_t>(m_process.processId()), SIGTERM); }
    bool waitForExit(int ms) { return m_process.waitForFinished(ms); }
    int exitCode() const { return m_process.exitCode(); }
    QProcess::ExitStatus exitStatus() const { return m_process.exitStatus(); }
    QString allOutput() {
        m_out += m_process.readAllStandardOutput();
        m_err += m_process.readAllStandardError();
        return QString::fromUtf8(m_out + m_err);
    }
    QByteArray stderrBytes() {
        m_err += m_process.readAllStandardError();
        return m_err;
    }

private:
    QTemporaryDir m_dir;
    std::string m_path;
    QProcess m_process;
    QByteArray m_out, m_err;
};

std::string configFor(const sim::SimProvider& sim) {
    return R"({"providers": [{"id": "up", "kind": "openai", "base_url": ")" + sim.openaiBaseUrl() +
           R"(", "api_key": "${TEST_PROVIDER_KEY}"}], "routes": [{"name": "default", "targets": [{"provider": "up"}]}]})";
}

} // namespace

class HeadlessTest : public QObject {
    Q_OBJECT
private slots:
    void drainsAStreamInFlightOnSigtermAndExitsZero() {
        sim::Options options;
        options.apiKey = kProviderKey;
        options.eventInterval = Millis{100};
        options.streamEvents = 12; // about 1.2 s of stream
        sim::SimProvider sim(options);
        QVERIFY(sim.start());
        Headless fusebox(configFor(sim));
        const uint16_t port = fusebox.waitForPort();
        QVERIFY2(port != 0, qPrintable(fusebox.allOutput()));

        auto streamed = std::async(std::launch::async, [port] {
            SimHttpClient client(port, std::chrono::seconds(10));
            return client.stream("/v1/chat/completions", chatRequest("hi", true).dump());
        });
        QTRY_COMPARE(sim.stats().activeStreams, int64_t{1});
        fusebox.terminate();
        const StreamReply reply = streamed.get();
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(reply.events.back().data, std::string("[DONE]")); // finished whole, after the signal
        QVERIFY(fusebox.waitForExit(15'000));
        QCOMPARE(fusebox.exitStatus(), QProcess::NormalExit);
        QCOMPARE(fusebox.exitCode(), 0);
    }

    void theProviderKeyAppearsInNoOutputAndJsonLogsCarryRequestIds() {
        sim::Options options;
        options.apiKey = kProviderKey;
        options.eventInterval = Millis{5};
        options.streamEvents = 3;
        sim::SimProvider sim(options);
        QVERIFY(sim.start());
        Headless fusebox(configFor(sim), {"--log-format", "json"});
        const uint16_t port = fusebox.waitForPort();
        QVERIFY(port != 0);
        SimHttpClient client(port);
        QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump()).status, 200);
        QCOMPARE(client.stream("/v1/chat/completions", chatRequest("hi", true).dump()).status, 200);
        // A provider that echoes our key back in its error message: the reason must not carry it on.
        sim.setFault(sim::Fault::httpError(401).withMessage("Incorrect API key provided: " + kProviderKey));
        auto failed = client.post("/v1/chat/completions", chatRequest().dump(), {{"x-request-id", "trace-123"}});
        QCOMPARE(failed.status, 503);
        QVERIFY(failed.body.find(kProviderKey) == std::string::npos);
        QVERIFY(failed.body.find("[redacted]") != std::string::npos);
        // The key did reach the provider: this is not a test that passes because nothing was sent.
        QCOMPARE(sim.recentRequests().front().header("authorization"), "Bearer " + kProviderKey);

        fusebox.terminate();
        QVERIFY(fusebox.waitForExit(15'000));
        const QString output = fusebox.allOutput();
        QVERIFY2(!output.contains(QString::fromStdString(kProviderKey)), qPrintable(output));
        bool sawRequest = false;
        for (const QByteArray& line : fusebox.stderrBytes().split('\n')) {
            if (line.trimmed().isEmpty()) continue;
            const json entry = json::parse(line.toStdString(), nullptr, false);
            QVERIFY2(entry.is_object(), line.constData()); // every line is one JSON object
            QVERIFY(entry.contains("time") && entry.contains("level") && entry.contains("msg"));
            if (entry.value("request_id", "") == "trace-123") sawRequest = true;
        }
        QVERIFY2(sawRequest, fusebox.stderrBytes().constData());
    }

    void aPortInUseIsAClearError() {
        sim::SimProvider sim;
        QVERIFY(sim.start());
        QTemporaryDir dir;
        const std::string path = writeTempFile(dir, "c.json", "{}");
        QProcess process;
        process.start(QString::fromLocal8Bit(qgetenv("FUSEBOX_BINARY_DIR")) + "/app/fusebox",
                      {"--headless", "--config", QString::fromStdString(path), "--listen",
                       QString("127.0.0.1:%1").arg(sim.port())});
        QVERIFY(process.waitForFinished(10'000));
        QCOMPARE(process.exitCode(), 2);
        QVERIFY(process.readAllStandardError().contains("cannot listen on 127.0.0.1:"));
    }
};

QTEST_GUILESS_MAIN(HeadlessTest)
#include "test_headless.moc"
