// Log lines on stderr: untrusted values (a client's model name) can neither forge a line nor reach the terminal
// as control sequences, and none is written whole past a bound; a line that repeats is written once per interval.
#include "core/Clock.h"
#include "core/Log.h"
#include "core/LogText.h"
#include "core/LogThrottle.h"
#include "StderrCapture.h"
#include "TestSupport.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <thread>
#include <vector>

using namespace fusebox;

namespace {

// The lines written to stderr while `write` runs.
template <typename Write>
QStringList capturedLines(Write write) {
    QTemporaryDir dir;
    const std::string path = dir.path().toStdString() + "/stderr.log";
    {
        test::StderrCapture capture(path);
        write();
    }
    const std::string text = test::readFile(path);
    QStringList lines;
    std::size_t start = 0;
    for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        lines << QString::fromStdString(text.substr(start, end - start));
    if (start < text.size()) lines << QString::fromStdString(text.substr(start)); // an unterminated rest
    return lines;
}

bool hasControlBytes(const QString& line) {
    const QByteArray bytes = line.toUtf8();
    for (char c : bytes)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    return line.contains(QChar(0x9b));
}

} // namespace

class LogTest : public QObject {
    Q_OBJECT
private slots:
    void init() { Log::setJson(false); }
    void cleanup() { Log::setJson(false); }

    void plainValuesStayPlain() {
        const auto lines = capturedLines([] {
            Log::info("attempt failed", {{"route", "default"}, {"reason", "two words"}, {"empty", ""}, {"path", "C:\\x"}});
        });
        QCOMPARE(lines.size(), 1);
        QVERIFY2(lines[0].endsWith(" info attempt failed route=default reason=\"two words\" empty=\"\" path=C:\\x"),
                 qPrintable(lines[0]));
    }

    void controlCharactersAreEscapedNotWritten() {
        const std::string forged = "gpt-4o\r\n2026-01-01T00:00:00.000Z error admin token accepted";
        const auto lines = capturedLines([&] {
            Log::info("attempt failed", {{"model", forged},
                                         {"color", "\x1b[31mred\x1b[0m"},
                                         {"del", "a\x7f" "b"},
                                         {"csi", "a\xc2\x9b" "31m"},
                                         {"tab", "a\tb"},
                                         {"bytes", "a\xff" "b"},
                                         {"accent", "caf\xc3\xa9"}});
            Log::warn("route\nforged line\x1b]0;title\x07", {});
        });
        QCOMPARE(lines.size(), 2); // one line each, whatever the values held
        for (const auto& line : lines) QVERIFY2(!hasControlBytes(line), qPrintable(line));
        const QString& l = lines[0];
        QVERIFY2(l.contains("model=\"gpt-4o\\r\\n2026-01-01T00:00:00.000Z error admin token accepted\""), qPrintable(l));
        QVERIFY2(l.contains("color=\"\\u001b[31mred\\u001b[0m\""), qPrintable(l));
        QVERIFY2(l.contains("del=\"a\\u007fb\""), qPrintable(l));
        QVERIFY2(l.contains("csi=\"a\\u009b31m\""), qPrintable(l));
        QVERIFY2(l.contains("tab=\"a\\tb\""), qPrintable(l));
        QVERIFY2(l.contains("bytes=\"a\\ufffdb\""), qPrintable(l));
        QVERIFY2(l.contains(QString::fromUtf8("accent=caf\xc3\xa9")), qPrintable(l)); // printable UTF-8 as it is
        QVERIFY2(lines[1].endsWith(" warn \"route\\nforged line\\u001b]0;title\\u0007\""), qPrintable(lines[1]));
    }

    void hugeValuesAreClipped() {
        const std::string model(20 * 1024 * 1024, 'm');
        const auto lines = capturedLines([&] {
            Log::info("attempt failed", {{"model", model}, {"route", "default"}});
            Log::info(std::string(100'000, 'x'), {});
        });
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].size() < 1200, qPrintable(lines[0].left(200)));
        QVERIFY(lines[0].contains(QString::fromUtf8("\xe2\x80\xa6(20971520 bytes)\" route=default")));
        QVERIFY(lines[0].contains("model=\"" + QString(static_cast<int>(kMaxLogValueBytes), 'm') + QString::fromUtf8("\xe2\x80\xa6")));
        QVERIFY(lines[1].size() < 4200);
        QVERIFY(lines[1].contains("(100000 bytes)"));

        Log::setJson(true);
        const auto json = capturedLines([&] { Log::info("attempt failed", {{"model", model}}); });
        QCOMPARE(json.size(), 1);
        const auto object = nlohmann::json::parse(json[0].toStdString());
        QCOMPARE(object["model"].get<std::string>().size(), kMaxLogValueBytes + std::string("\u2026(20971520 bytes)").size());
    }

    void clippingNeverSplitsACharacter() {
        std::string storage;
        const std::string text = std::string(1023, 'a') + "\xc3\xa9" + std::string(10, 'b'); // é across the bound
        const std::string_view clipped = clipForLog(text, 1024, storage);
        QCOMPARE(std::string(clipped), std::string(1023, 'a') + "\u2026(1035 bytes)");
        QVERIFY(isPrintableText(clipped));
        QCOMPARE(std::string(clipForLog("short", 1024, storage)), std::string("short"));
        const std::string emoji = "\xf0\x9f\x94\xa5\xf0\x9f\x94\xa5"; // two 4-byte characters
        QCOMPARE(std::string(clipForLog(emoji, 6, storage)), std::string("\xf0\x9f\x94\xa5\u2026(8 bytes)"));
    }

    void printableTextIsWellFormedUtf8WithoutControls() {
        QVERIFY(isPrintableText("plain ascii, with spaces and \"quotes\""));
        QVERIFY(isPrintableText("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5"));
        for (const char* bad : {"a\nb", "\x1b", "\x7f", "\xc2\x85", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                "\xe2\x82", "\x80"})
            QVERIFY2(!isPrintableText(bad), bad);
        std::string out;
        appendJsonString(out, "\"\\\x01\xc2\x9f\xc3\xa9\xff");
        QCOMPARE(out, std::string("\"\\\"\\\\\\u0001\\u009f\xc3\xa9\\ufffd\""));
    }

    void throttledWritesOncePerIntervalAndCountsTheRest() {
        using namespace std::chrono_literals;
        ManualClock clock;
        Log::setThrottleClock(&clock);
        const auto acceptFailed = [] {
            Log::throttled(LogLevel::Error, "accept failed", 10s, "accept failed", {{"error", "Too many open files"}});
        };
        const auto lines = capturedLines([&] {
            acceptFailed(); // written
            for (int i = 0; i < 199; ++i) {
                clock.advance(50ms); // the accept loop's retry period under descriptor exhaustion
                acceptFailed();      // held back: 199 of them within the 10 s
            }
            clock.advance(50ms);
            acceptFailed(); // 10 s after the first: written, with the count
            acceptFailed(); // held back
            Log::throttled(LogLevel::Warn, "another condition", 10s, "something else"); // its own key: written
            clock.advance(10s);
            acceptFailed(); // written, suppressed=1
            clock.advance(10s);
            acceptFailed(); // written, nothing held back since
        });
        Log::setThrottleClock(nullptr);
        QCOMPARE(lines.size(), 5);
        QVERIFY2(lines[0].endsWith(" error accept failed error=\"Too many open files\""), qPrintable(lines[0]));
        QVERIFY2(lines[1].endsWith(" error accept failed error=\"Too many open files\" suppressed=199"), qPrintable(lines[1]));
        QVERIFY2(lines[2].endsWith(" warn something else"), qPrintable(lines[2]));
        QVERIFY2(lines[3].endsWith(" suppressed=1"), qPrintable(lines[3]));
        QVERIFY2(lines[4].endsWith(" error accept failed error=\"Too many open files\""), qPrintable(lines[4]));

        // A line below the minimum level is neither written nor counted.
        Log::setMinimum(LogLevel::Warn);
        const auto quiet = capturedLines([&] {
            for (int i = 0; i < 3; ++i) Log::throttled(LogLevel::Info, "chatty", 10s, "chatty");
        });
        Log::setMinimum(LogLevel::Info);
        QCOMPARE(quiet.size(), 0);
        const auto first = capturedLines([&] { Log::throttled(LogLevel::Info, "chatty", 10s, "chatty"); });
        QCOMPARE(first.size(), 1);
        QVERIFY2(!first[0].contains("suppressed"), qPrintable(first[0]));
    }

    void throttledCountsEveryThreadsLines() {
        using namespace std::chrono_literals;
        ManualClock clock;
        Log::setThrottleClock(&clock);
        constexpr int kThreads = 4, kCalls = 2000;
        const auto lines = capturedLines([&] {
            std::vector<std::thread> threads;
            for (int t = 0; t < kThreads; ++t)
                threads.emplace_back([] {
                    for (int i = 0; i < kCalls; ++i) Log::throttled(LogLevel::Error, "busy", 1s, "busy");
                });
            for (auto& thread : threads) thread.join();
            clock.advance(1s);
            Log::throttled(LogLevel::Error, "busy", 1s, "busy");
        });
        Log::setThrottleClock(nullptr);
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[1].endsWith(" suppressed=" + QString::number(kThreads * kCalls - 1)), qPrintable(lines[1]));
    }

    void throttleRemembersABoundedNumberOfKeys() {
        using namespace std::chrono_literals;
        const SteadyTime t0{std::chrono::hours(1)};
        LogThrottle throttle(3);
        for (const char* key : {"a", "b", "c"}) QCOMPARE(throttle.admit(key, 10s, t0), std::optional<uint64_t>(0));
        QCOMPARE(throttle.admit("a", 10s, t0 + 1s), std::nullopt); // counted
        // A fourth key finds the map full and nothing expired: the key quiet the shortest goes (all equal here).
        QCOMPARE(throttle.admit("d", 20s, t0 + 2s), std::optional<uint64_t>(0));
        QCOMPARE(throttle.keyCount(), size_t{3});
        // Past the others' intervals, a new key sweeps out the expired ones, and d, still quiet, stays.
        QCOMPARE(throttle.admit("e", 10s, t0 + 15s), std::optional<uint64_t>(0));
        QCOMPARE(throttle.keyCount(), size_t{2});
        QCOMPARE(throttle.admit("d", 20s, t0 + 16s), std::nullopt);
        for (int i = 0; i < 10'000; ++i) throttle.admit("key" + std::to_string(i), 10s, t0 + 20s);
        QCOMPARE(throttle.keyCount(), size_t{3});
    }
};

QTEST_GUILESS_MAIN(LogTest)
#include "test_log.moc"
