// A provider's live figures: latency percentiles are of the last minute, so a hang long past stops holding p99
// at its timeout; errorsTotal lets a history take each interval's own failure rate.
#include "core/Clock.h"
#include "routing/ProviderStats.h"

#include <QtTest>

using namespace fusebox;

namespace {
AttemptRecord attempt(Outcome outcome, int ms) {
    AttemptRecord a;
    a.outcome = outcome;
    a.duration = Millis{ms};
    return a;
}
} // namespace

class ProviderStatsTest : public QObject {
    Q_OBJECT
private slots:
    void percentilesForgetAHangAfterAMinute() {
        ManualClock clock;
        ProviderStats stats(clock);
        for (int i = 0; i < 5; ++i) stats.record(attempt(Outcome::Timeout, 10'000)); // a hang, cut by the timeout
        QCOMPARE(stats.figures().p99Ms, 10'000.0);
        clock.advance(std::chrono::seconds(30));
        for (int i = 0; i < 95; ++i) stats.record(attempt(Outcome::Success, 200));
        QCOMPARE(stats.figures().p99Ms, 10'000.0); // still in the last minute
        QCOMPARE(stats.figures().recentLatencySamples, 100u);
        clock.advance(std::chrono::seconds(31));
        const ProviderFigures f = stats.figures();
        QCOMPARE(f.recentLatencySamples, 95u);
        QCOMPARE(f.p95Ms, 200.0);
        QCOMPARE(f.p99Ms, 200.0);
        clock.advance(std::chrono::seconds(60));
        QCOMPARE(stats.figures().recentLatencySamples, 0u);
        QCOMPARE(stats.figures().p99Ms, 0.0);
    }

    void errorsAreCountedSinceStart() {
        ManualClock clock;
        ProviderStats stats(clock);
        stats.record(attempt(Outcome::ServerError, 5));
        stats.record(attempt(Outcome::ClientError, 5)); // the client's fault, not the provider's
        stats.record(attempt(Outcome::Success, 5));
        stats.record(attempt(Outcome::ShortCircuited, 0));
        const ProviderFigures f = stats.figures();
        QCOMPARE(f.errorsTotal, uint64_t{1});
        QCOMPARE(f.attemptsTotal, uint64_t{3});
        QCOMPARE(f.shortCircuitedTotal, uint64_t{1});
    }
};

QTEST_GUILESS_MAIN(ProviderStatsTest)
#include "test_provider_stats.moc"
