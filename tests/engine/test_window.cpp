// The sliding window: per-second buckets, running totals, eviction.
#include "breaker/SlidingWindow.h"

#include <QtTest>

using namespace fusebox;
using namespace std::chrono_literals;

class WindowTest : public QObject {
    Q_OBJECT
private slots:
    void countsByOutcomeAndRule() {
        SlidingWindow w(10);
        const SteadyTime t0{100s};
        w.record(t0, Outcome::Success, false, false);
        w.record(t0, Outcome::Success, false, true);
        w.record(t0, Outcome::ServerError, true, false);
        w.record(t0, Outcome::RateLimited, false, false);
        w.record(t0, Outcome::Cancelled, false, false);
        const auto& totals = w.totals(t0);
        QCOMPARE(totals.calls, 4u); // cancelled is not a call
        QCOMPARE(totals.failures, 1u);
        QCOMPARE(totals.slow, 1u);
        QCOMPARE(totals.count(Outcome::Success), 2u);
        QCOMPARE(totals.count(Outcome::Cancelled), 1u);
    }

    void evictsSecondBySecond() {
        SlidingWindow w(3);
        const SteadyTime t0{100s};
        w.record(t0, Outcome::ServerError, true, false);
        w.record(t0 + 1s, Outcome::Success, false, false);
        w.record(t0 + 2s, Outcome::Success, false, false);
        QCOMPARE(w.totals(t0 + 2s).calls, 3u);
        QCOMPARE(w.totals(t0 + 3s).calls, 2u); // the first second left the window
        QCOMPARE(w.totals(t0 + 3s).failures, 0u);
        QCOMPARE(w.totals(t0 + 4s).calls, 1u);
        QCOMPARE(w.totals(t0 + 500s).calls, 0u); // a long idle gap clears everything at once
        w.record(t0 + 500s, Outcome::Success, false, false);
        QCOMPARE(w.totals(t0 + 500s).calls, 1u);
    }

    void bucketsAreOldestFirstAndSkipEmptySeconds() {
        SlidingWindow w(60);
        const SteadyTime t0{1000s};
        w.record(t0, Outcome::Success, false, false);
        w.record(t0 + 5s, Outcome::Timeout, true, false);
        w.record(t0 + 5s, Outcome::Timeout, true, false);
        const auto buckets = w.buckets(t0 + 7s);
        QCOMPARE(buckets.size(), size_t{2});
        QCOMPARE(buckets[0].second, int64_t{1000});
        QCOMPARE(buckets[1].second, int64_t{1005});
        QCOMPARE(buckets[1].counts.failures, 2u);
    }

    void lateRecordsLandInTheNewestBucket() {
        SlidingWindow w(5);
        w.record(SteadyTime{200s}, Outcome::Success, false, false);
        w.record(SteadyTime{199s}, Outcome::Success, false, false); // a thread read the clock just before
        QCOMPARE(w.totals(SteadyTime{200s}).calls, 2u);
        QCOMPARE(w.totals(SteadyTime{205s}).calls, 0u);
    }
};

QTEST_GUILESS_MAIN(WindowTest)
#include "test_window.moc"
