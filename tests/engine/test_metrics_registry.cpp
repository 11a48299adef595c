// The attempt counters behind GET /metrics: one series per route (or its metrics label), provider and
// outcome, and past the series cap a new route counts under "other" while every existing series keeps its own
// count.
#include "Snapshot.h"
#include "admin/MetricsRegistry.h"

#include <QtTest>

using namespace fusebox;

namespace {

AttemptRecord attempt(std::string route, std::string provider, Outcome outcome) {
    AttemptRecord a;
    a.route = std::move(route);
    a.provider = std::move(provider);
    a.outcome = outcome;
    a.duration = Millis{120};
    return a;
}

// The value of one exposition line, by its whole name and labels; -1 when there is no such line.
long long seriesValue(const std::string& exposition, const std::string& series) {
    const std::string line = "\n" + series + " ";
    const auto at = exposition.find(line);
    if (at == std::string::npos) return -1;
    return std::stoll(exposition.substr(at + line.size()));
}

std::string requests(const std::string& route, const std::string& provider, const std::string& outcome) {
    return "fusebox_requests_total{route=\"" + route + "\",provider=\"" + provider + "\",outcome=\"" +
           outcome + "\"}";
}

} // namespace

class MetricsRegistryTest : public QObject {
    Q_OBJECT
  private slots:
    void countsEachSeries() {
        MetricsRegistry metrics;
        metrics.record(attempt("chat-route-with-a-long-name", "openai-primary-account", Outcome::Success));
        metrics.record(attempt("chat-route-with-a-long-name", "openai-primary-account", Outcome::Success));
        metrics.record(
            attempt("chat-route-with-a-long-name", "openai-primary-account", Outcome::ServerError));
        AttemptRecord labelled =
            attempt("openai/gpt-4o-2024-08-06", "openai-primary-account", Outcome::Success);
        labelled.metricsLabel = "openai/*"; // a direct PROVIDER/MODEL counts under its label, not its model
        metrics.record(labelled);
        const std::string out = metrics.render(EngineSnapshot{});
        QCOMPARE(
            seriesValue(out, requests("chat-route-with-a-long-name", "openai-primary-account", "success")),
            2);
        QCOMPARE(seriesValue(
                     out, requests("chat-route-with-a-long-name", "openai-primary-account", "server_error")),
                 1);
        QCOMPARE(seriesValue(out, requests("openai/*", "openai-primary-account", "success")), 1);
        QCOMPARE(seriesValue(out, requests("openai/gpt-4o-2024-08-06", "openai-primary-account", "success")),
                 -1);
    }

    void pastTheCapNewRoutesShareOther() {
        MetricsRegistry metrics;
        for (std::size_t i = 0; i < MetricsRegistry::kMaxRequestSeries; ++i)
            metrics.record(attempt("route-" + std::to_string(i), "p", Outcome::Success));
        metrics.record(attempt("route-7", "p", Outcome::Success));           // an existing series: its own
        metrics.record(attempt("a-new-route", "p", Outcome::Success));       // a new one: "other"
        metrics.record(attempt("another-new-route", "p", Outcome::Success)); // and again
        metrics.record(attempt("route-7", "p", Outcome::Timeout)); // a new outcome is a new series too
        const std::string out = metrics.render(EngineSnapshot{});
        QCOMPARE(seriesValue(out, requests("route-7", "p", "success")), 2);
        QCOMPARE(seriesValue(out, requests("other", "p", "success")), 2);
        QCOMPARE(seriesValue(out, requests("other", "p", "timeout")), 1);
        QCOMPARE(seriesValue(out, requests("a-new-route", "p", "success")), -1);
        QCOMPARE(seriesValue(out, requests("route-7", "p", "timeout")), -1);
    }
};

QTEST_APPLESS_MAIN(MetricsRegistryTest)
#include "test_metrics_registry.moc"
