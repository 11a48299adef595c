// The fusebox executable's command line (CONTRACT §1), run as a real process.
#include "TestSupport.h"

#include <QProcess>
#include <QtTest>

namespace {

struct Run {
    int exitCode = -1;
    QString out, err;
};

Run runFusebox(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(QString::fromLocal8Bit(qgetenv("FUSEBOX_BINARY_DIR")) + "/app/fusebox", args);
    if (!process.waitForFinished(30'000)) process.kill();
    return {process.exitCode(), QString::fromUtf8(process.readAllStandardOutput()),
            QString::fromUtf8(process.readAllStandardError())};
}

} // namespace

class AppCliTest : public QObject {
    Q_OBJECT
private slots:
    void versionAndHelp() {
        Run v = runFusebox({"--version"});
        QCOMPARE(v.exitCode, 0);
        QVERIFY(v.out.startsWith("fusebox "));
        Run h = runFusebox({"--help"});
        QCOMPARE(h.exitCode, 0);
        QVERIFY2(h.out.startsWith("Usage: fusebox [options]"), qPrintable(h.out));
        for (const char* flag : {"--config", "--listen", "--headless", "--demo", "--check-config", "--log-format",
                                 "--version", "--help"})
            QVERIFY2(h.out.contains(flag), flag);
    }

    void commandLineErrorsExitTwo() {
        for (const QStringList& args : {QStringList{"--bogus"}, QStringList{"--log-format", "xml"},
                                        QStringList{"stray"}, QStringList{"--config"}}) {
            Run r = runFusebox(args);
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.err.contains("fusebox:"), qPrintable(r.err));
        }
    }

    void checkConfig() {
        QTemporaryDir dir;
        const std::string good = fusebox::test::writeTempFile(dir, "good.json", R"({"listen": "127.0.0.1:0"})");
        Run ok = runFusebox({"--config", QString::fromStdString(good), "--check-config"});
        QCOMPARE(ok.exitCode, 0);
        QCOMPARE(ok.out.trimmed(), QString("ok"));

        const std::string bad = fusebox::test::writeTempFile(dir, "bad.json", "{\n  \"breaker\": { \"open_s\": \"30\" }\n}\n");
        Run r = runFusebox({"--config", QString::fromStdString(bad), "--check-config"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("bad.json:2:16: breaker.open_s: must be a number (got a string)"), qPrintable(r.err));

        // A number no double holds was an uncaught nlohmann out_of_range: abort, exit 134, no position.
        const std::string overflow =
            fusebox::test::writeTempFile(dir, "overflow.json", "{\n  \"breaker\": { \"open_s\": 1e999 }\n}\n");
        Run o = runFusebox({"--config", QString::fromStdString(overflow), "--check-config"});
        QCOMPARE(o.exitCode, 2);
        QVERIFY2(o.err.contains("overflow.json:2:26: invalid JSON: the number 1e999 is out of range"), qPrintable(o.err));

        Run missing = runFusebox({"--config", dir.path() + "/none.json", "--check-config"});
        QCOMPARE(missing.exitCode, 2);
        QVERIFY(missing.err.contains("none.json: cannot read"));

        Run listen = runFusebox({"--config", QString::fromStdString(good), "--listen", "0.0.0.0:80", "--check-config"});
        QCOMPARE(listen.exitCode, 2);
        QVERIFY(listen.err.contains("--listen: ") && listen.err.contains("admin_token"));
    }

    void badConfigAtGuiStartShowsADialog() {
        // The console (no --headless) with a bad config: a window says what is wrong instead of a silent exit 2.
        // FUSEBOX_SCREENSHOT makes the dialog save a picture of itself and answer Quit, so the test sees it was shown.
        QTemporaryDir dir;
        const std::string bad = fusebox::test::writeTempFile(dir, "bad.json", "{\n  \"breaker\": { \"open_s\": \"30\" }\n}\n");
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        env.insert("XDG_CONFIG_HOME", dir.path());
        env.insert("FUSEBOX_SCREENSHOT", dir.path() + "/dialog.png");
        env.insert("FUSEBOX_SCREENSHOT_AFTER_S", "1");
        Run r = runFusebox({"--config", QString::fromStdString(bad)}, env);
        QCOMPARE(r.exitCode, 2); // Quit keeps the status a script expects
        QVERIFY2(r.err.contains("bad.json:2:16: breaker.open_s: must be a number (got a string)"), qPrintable(r.err));
        QVERIFY2(QFile::exists(dir.path() + "/dialog.png"), qPrintable(r.out + r.err));
        QVERIFY(r.out.contains("saved a screenshot to"));

        // Headless: no window, the same message on stderr, status 2.
        env.remove("FUSEBOX_SCREENSHOT");
        Run h = runFusebox({"--config", QString::fromStdString(bad), "--headless"}, env);
        QCOMPARE(h.exitCode, 2);
        QVERIFY(h.err.contains("bad.json:2:16: breaker.open_s"));
    }

    void firstStartWritesTheDefaultConfig() {
        QTemporaryDir dir;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("XDG_CONFIG_HOME", dir.path());
        env.remove("OPENAI_API_KEY");
        Run r = runFusebox({"--check-config"}, env);
        QCOMPARE(r.exitCode, 0);
        const QString path = dir.path() + "/fusebox/config.json";
        QVERIFY2(r.out.contains(path), qPrintable(r.out));
        QVERIFY(QFile::exists(path));
        QVERIFY(r.err.contains("set OPENAI_API_KEY"));
        // The second start reads it and writes nothing.
        Run again = runFusebox({"--check-config"}, env);
        QCOMPARE(again.exitCode, 0);
        QVERIFY(!again.out.contains("wrote"));
    }
};

QTEST_GUILESS_MAIN(AppCliTest)
#include "test_app_cli.moc"
