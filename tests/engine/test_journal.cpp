// The SQLite journal: attempts and events committed by the writer thread, a file that survives kill -9 mid-load,
// the v1 → v2 migration, retention pruning by the manual clock.
// Run with `--journal-writer PATH` this binary is the child of the kill -9 test: it writes attempts forever and
// prints how many are committed after each commit.
#include "core/Clock.h"
#include "spend/SpendLedger.h"
#include "store/Journal.h"

#include <sqlite3.h>

#include <QCoreApplication>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>

using namespace fusebox;
using namespace std::chrono_literals;

namespace {

AttemptRecord attempt(WallTime at, int i) {
    AttemptRecord a;
    a.at = at;
    a.requestId = "req-" + std::to_string(i);
    a.route = "default";
    a.provider = "alpha";
    a.model = "gpt-4o";
    a.status = 200;
    a.usage.inputTokens = 100;
    a.usage.outputTokens = 5;
    a.usage.cacheReadTokens = 7;
    a.usage.reported = true;
    a.costUsd = 0.001;
    a.delivered = true;
    return a;
}

std::string query(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    std::string out;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            const auto* text = sqlite3_column_text(st, 0);
            out = text ? reinterpret_cast<const char*>(text) : "";
        } else {
            out = std::string("error: ") + sqlite3_errmsg(db);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
}

int runWriter(const std::string& path) {
    std::string error;
    auto journal = Journal::open(path, SystemClock::instance(), 30, error);
    if (!journal) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    for (int i = 0;; ++i) {
        journal->append(attempt(SystemClock::instance().wallNow(), i));
        if (i % 50 == 49) {
            journal->flush();
            std::printf("%llu\n", static_cast<unsigned long long>(journal->committedAttempts()));
            std::fflush(stdout);
        }
    }
}

} // namespace

class JournalTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir;
    std::string path(const char* name) { return dir.filePath(name).toStdString(); }

private slots:
    void writesAttemptsAndEvents() {
        ManualClock clock;
        std::string error;
        auto journal = Journal::open(path("a.db"), clock, 30, error);
        QVERIFY2(journal, error.c_str());
        journal->append(attempt(clock.wallNow(), 1));
        AttemptRecord unpriced = attempt(clock.wallNow() + 1s, 2);
        unpriced.costUsd.reset();
        journal->append(unpriced);
        Event e;
        e.type = EventType::Breaker;
        e.at = clock.wallNow();
        e.provider = "alpha";
        e.from = "closed";
        e.to = "open";
        e.reason = "5 failures in a row";
        journal->append(e);
        journal->flush();
        QCOMPARE(journal->committedAttempts(), uint64_t{2});
        const auto rows = journal->attempts(WallTime{}, WallTime::max());
        QCOMPARE(rows.size(), std::size_t{2});
        QCOMPARE(rows[0].requestId, std::string("req-1"));
        QCOMPARE(*rows[0].costUsd, 0.001);
        QVERIFY(!rows[1].costUsd); // unpriced stays unpriced
        QCOMPARE(rows[0].usage.cacheReadTokens, int64_t{7});
        QCOMPARE(journal->eventCount(), uint64_t{1});
        QCOMPARE(query(path("a.db"), "PRAGMA journal_mode"), std::string("wal"));
        QCOMPARE(query(path("a.db"), "PRAGMA user_version"), std::to_string(Journal::kSchemaVersion));
    }

    // What a restart restores today's spend (and the daily budgets) from: sums by provider, in SQLite.
    void sumsTodaysSpendByProvider() {
        ManualClock clock;
        std::string error;
        auto journal = Journal::open(path("totals.db"), clock, 30, error);
        QVERIFY2(journal, error.c_str());
        const WallTime start = clock.wallNow();
        journal->append(attempt(start - 10s, 0)); // before `since`: not counted
        for (int i = 1; i <= 6; ++i) journal->append(attempt(start + std::chrono::seconds(i), i));
        AttemptRecord cut = attempt(start + 7s, 7); // priced, not delivered: wasted
        cut.delivered = false;
        journal->append(cut);
        AttemptRecord unpriced = attempt(start + 8s, 8);
        unpriced.costUsd.reset();
        journal->append(unpriced);
        AttemptRecord refused = attempt(start + 9s, 9); // a breaker's refusal: no usage, no price
        refused.provider = "beta";
        refused.outcome = Outcome::ShortCircuited;
        refused.costUsd.reset();
        refused.usage = Usage{};
        journal->append(refused);
        journal->flush();

        auto totals = journal->spendTotals(start);
        std::sort(totals.begin(), totals.end(), [](const auto& a, const auto& b) { return a.provider < b.provider; });
        QCOMPARE(totals.size(), std::size_t{2});
        QCOMPARE(totals[0].provider, std::string("alpha"));
        QVERIFY(std::abs(totals[0].usd - 0.007) < 1e-12); // attempts 1-7
        QVERIFY(std::abs(totals[0].wastedUsd - 0.001) < 1e-12);
        QCOMPARE(totals[0].unpriced, uint64_t{1});
        QCOMPARE(totals[1].provider, std::string("beta"));
        QCOMPARE(totals[1].usd, 0.0);
        QCOMPARE(totals[1].unpriced, uint64_t{0});
    }

    // The report the admin API and the console read: SQLite's sums must be what the in-memory report computes
    // from the same attempts, bucket by bucket, saved estimate included.
    void spendReportFromSqlMatchesTheOneFromMemory() {
        ManualClock clock;
        std::string error;
        auto journal = Journal::open(path("report.db"), clock, 30, error);
        QVERIFY2(journal, error.c_str());
        const WallTime start{std::chrono::seconds{1767225600}}; // a minute boundary
        const Outcome outcomes[] = {Outcome::Success,    Outcome::ServerError,    Outcome::Timeout,
                                    Outcome::ClientError, Outcome::ShortCircuited, Outcome::Cancelled,
                                    Outcome::RateLimited};
        std::vector<AttemptRecord> all;
        for (int i = 0; i < 60; ++i) {
            AttemptRecord a = attempt(start + std::chrono::seconds(i * 7), i); // across about 7 minutes
            a.provider = i % 3 == 0 ? "beta" : "alpha";
            a.outcome = outcomes[i % 7];
            a.duration = Millis{100 + i * 13};
            a.usage.inputTokens = 10 + i;
            a.usage.outputTokens = i % 5;
            if (i % 4 == 0) a.costUsd.reset(); // unpriced
            else a.costUsd = 0.0001 * i;
            a.delivered = i % 6 != 0;
            if (a.outcome == Outcome::ShortCircuited) { // a refusal: no call, no usage, no price
                a.usage = Usage{};
                a.costUsd.reset();
                a.duration = Millis{0};
            }
            journal->append(a);
            all.push_back(a);
        }
        journal->flush();
        const WallTime since = start + std::chrono::seconds(30); // a window that starts mid-minute
        std::vector<AttemptRecord> window;
        for (const auto& a : all)
            if (a.at >= since) window.push_back(a);

        for (SpendBucket bucket : {SpendBucket::Minute, SpendBucket::Hour}) {
            const SpendReport memory = buildSpendReport(window, bucket);
            const auto rows = journal->spendBuckets(since, SpendLedger::bucketSeconds(bucket));
            QCOMPARE(rows.size(), memory.buckets.size());
            for (std::size_t i = 0; i < rows.size(); ++i) {
                QCOMPARE(rows[i].t, memory.buckets[i].t);
                QCOMPARE(rows[i].provider, memory.buckets[i].provider);
                QCOMPARE(rows[i].requests, memory.buckets[i].requests);
                QCOMPARE(rows[i].inputTokens, memory.buckets[i].inputTokens);
                QCOMPARE(rows[i].outputTokens, memory.buckets[i].outputTokens);
                QVERIFY(std::abs(rows[i].usd - memory.buckets[i].usd) < 1e-12);
                QVERIFY(std::abs(rows[i].wastedUsd - memory.buckets[i].wastedUsd) < 1e-12);
                QCOMPARE(rows[i].unpriced, memory.buckets[i].unpriced);
            }
            const SpendSaved saved = estimateSaved(journal->failureTotals(since));
            QCOMPARE(saved.shortCircuited, memory.saved.shortCircuited);
            QVERIFY(saved.shortCircuited > 0);
            QVERIFY(std::abs(saved.estUsd - memory.saved.estUsd) < 1e-12);
            QVERIFY(std::abs(saved.estSeconds - memory.saved.estSeconds) < 1e-9);
        }
    }

    void commitsWithinASecondWithoutFlush() {
        std::string error;
        auto journal = Journal::open(path("b.db"), SystemClock::instance(), 30, error);
        QVERIFY2(journal, error.c_str());
        journal->append(attempt(SystemClock::instance().wallNow(), 1));
        QTRY_COMPARE_WITH_TIMEOUT(query(path("b.db"), "SELECT count(*) FROM attempts"), std::string("1"), 1000);
    }

    void survivesKill9MidLoad() {
        const QString db = dir.filePath("kill.db");
        QProcess child;
        child.start(QCoreApplication::applicationFilePath(), {"--journal-writer", db});
        QVERIFY(child.waitForStarted());
        unsigned long long reported = 0;
        QElapsedTimer timer;
        timer.start();
        while (reported < 3000 && timer.elapsed() < 30000) {
            child.waitForReadyRead(1000);
            while (child.canReadLine()) reported = std::stoull(child.readLine().trimmed().toStdString());
        }
        QVERIFY2(reported >= 3000, child.readAllStandardError().constData());
        ::kill(static_cast<pid_t>(child.processId()), SIGKILL); // mid-load: it is writing right now
        QVERIFY(child.waitForFinished(5000));
        QCOMPARE(child.exitStatus(), QProcess::CrashExit);
        while (child.canReadLine()) reported = std::max(reported, std::stoull(child.readLine().trimmed().toStdString()));

        QCOMPARE(query(db.toStdString(), "PRAGMA integrity_check"), std::string("ok"));
        const unsigned long long rows = std::stoull(query(db.toStdString(), "SELECT count(*) FROM attempts"));
        QVERIFY2(rows >= reported, (std::to_string(rows) + " < " + std::to_string(reported)).c_str());
        std::string error;
        auto reopened = Journal::open(db.toStdString(), SystemClock::instance(), 30, error);
        QVERIFY2(reopened, error.c_str());
    }

    void migratesAVersion1File() {
        const std::string file = path("v1.db");
        std::string error;
        QVERIFY2(createJournalV1(file, error), error.c_str());
        QCOMPARE(query(file, "PRAGMA user_version"), std::string("1"));
        QCOMPARE(query(file,
                       "INSERT INTO attempts (t_ms, request_id, route, provider, model, outcome, status, ttfb_ms, "
                       "duration_ms, input_tokens, output_tokens, usd, delivered) VALUES (1767225600000, 'old', "
                       "'default', 'alpha', 'gpt-4o', 'success', 200, 10, 20, 30, 40, 0.5, 1) RETURNING id"),
                 std::string("1"));
        ManualClock clock;
        auto journal = Journal::open(file, clock, 30, error);
        QVERIFY2(journal, error.c_str());
        QCOMPARE(query(file, "PRAGMA user_version"), std::string("2"));
        const auto rows = journal->attempts(WallTime{}, WallTime::max());
        QCOMPARE(rows.size(), std::size_t{1});
        QCOMPARE(rows[0].requestId, std::string("old"));
        QCOMPARE(rows[0].usage.inputTokens, int64_t{30});
        QCOMPARE(rows[0].usage.cacheReadTokens, int64_t{0});
        QCOMPARE(*rows[0].costUsd, 0.5);
        journal->append(attempt(clock.wallNow(), 2)); // v2 columns writable
        journal->flush();
        QCOMPARE(journal->committedAttempts(), uint64_t{1});
    }

    void refusesANewerSchema() {
        const std::string file = path("future.db");
        std::string error;
        QVERIFY(createJournalV1(file, error));
        query(file, "PRAGMA user_version = 99");
        ManualClock clock;
        QVERIFY(!Journal::open(file, clock, 30, error));
        QVERIFY2(error.find("newer") != std::string::npos, error.c_str());
    }

    void prunesPastRetentionByTheClock() {
        ManualClock clock;
        std::string error;
        auto journal = Journal::open(path("r.db"), clock, 30, error);
        QVERIFY2(journal, error.c_str());
        journal->append(attempt(clock.wallNow(), 1));
        Event e;
        e.at = clock.wallNow();
        e.reason = "old";
        journal->append(e);
        journal->flush();
        clock.advance(std::chrono::hours(24 * 29));
        journal->append(attempt(clock.wallNow(), 2));
        journal->flush();
        QTest::qWait(300); // the writer looked at the clock: 29 days is within retention
        QCOMPARE(journal->attempts(WallTime{}, WallTime::max()).size(), std::size_t{2});
        clock.advance(std::chrono::hours(24 * 2)); // the first is now 31 days old
        QTRY_COMPARE(journal->attempts(WallTime{}, WallTime::max()).size(), std::size_t{1});
        QCOMPARE(journal->eventCount(), uint64_t{0});
        QCOMPARE(journal->attempts(WallTime{}, WallTime::max())[0].requestId, std::string("req-2"));
    }
};

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--journal-writer") return runWriter(argv[2]);
    QCoreApplication app(argc, argv);
    JournalTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_journal.moc"
