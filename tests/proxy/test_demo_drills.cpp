// --demo's drills do what they say through the real proxy: the slow bleed makes answers slower than the demo's
// slow_call_ms (so the breaker's "slow" count moves), and the demo's models are priced (so spend moves).
#include "Engine.h"
#include "SimHttpClient.h"
#include "config/ConfigLoader.h"
#include "sim/DemoProviders.h"

#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <thread>

using namespace fusebox;
using fusebox::test::SimHttpClient;

namespace {

struct DemoEngine {
    QTemporaryDir data;
    std::unique_ptr<Engine> engine;

    bool start() {
        auto loaded = parseConfig(nlohmann::json{{"listen", "127.0.0.1:0"}, {"data_dir", data.path().toStdString()}}.dump(),
                                  "demo.json");
        if (!loaded.ok()) return false;
        auto demo = std::make_unique<sim::DemoProviders>();
        std::string error;
        if (!demo->start(error)) return false;
        demo->addTo(*loaded.config);
        engine = std::make_unique<Engine>(std::move(*loaded.config));
        engine->adoptDemo(std::move(demo));
        return engine->start(error);
    }
    ~DemoEngine() {
        if (engine) engine->stop(Millis{0});
    }
    uint16_t port() const { return static_cast<uint16_t>(QUrl(QString::fromStdString(engine->listenUrl())).port()); }
    // `n` requests to the demo route at once; returns how many were answered 200.
    int burst(int n) {
        std::atomic<int> ok{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < n; ++i)
            threads.emplace_back([this, &ok] {
                SimHttpClient client(port());
                const auto reply = client.post(
                    "/v1/chat/completions",
                    nlohmann::json{{"model", "demo"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}.dump());
                if (reply.status == 200) ++ok;
            });
        for (auto& t : threads) t.join();
        return ok.load();
    }
    const ProviderSnapshot& primary(EngineSnapshot& keep) {
        keep = engine->snapshot();
        return *keep.findProvider(sim::DemoProviders::kPrimary);
    }
};

} // namespace

class DemoDrillsTest : public QObject {
    Q_OBJECT
private slots:
    void slowBleedMovesTheSlowCount() {
        DemoEngine d;
        QVERIFY(d.start());
        QVERIFY(d.engine->drill(sim::DemoProviders::kPrimary, "slow").ok);
        const int ok = d.burst(8); // seeded: about three in ten are 500s, the rest succeed after 2.5 s
        QVERIFY(ok >= 1);
        EngineSnapshot keep;
        const auto& p = d.primary(keep);
        const auto& w = p.breaker.window;
        QVERIFY2(w.slow >= 1, qPrintable(QString("slow %1 of %2 calls").arg(w.slow).arg(w.calls)));
        QVERIFY(p.breaker.policy.slowCallMs < 2500);
    }

    void demoModelsArePriced() {
        DemoEngine d;
        QVERIFY(d.start());
        QCOMPARE(d.burst(3), 3);
        EngineSnapshot keep;
        const auto& p = d.primary(keep);
        QVERIFY2(p.spendTodayUsd > 0, qPrintable(QString::number(p.spendTodayUsd)));
        QCOMPARE(p.unpricedAttempts, uint64_t{0});
        QVERIFY(d.engine->prices().find("sim-1-mini").has_value());
    }
};

QTEST_GUILESS_MAIN(DemoDrillsTest)
#include "test_demo_drills.moc"
