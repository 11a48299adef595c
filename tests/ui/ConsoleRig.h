#pragma once
// A console against a real engine for the UI tests: two simulated providers on loopback, a provider without a key,
// a route "default", the config in a real temporary file (so route changes are persisted), and the real window.
#include "Engine.h"
#include "EngineBridge.h"
#include "EventLogModel.h"
#include "MainWindow.h"
#include "SimHttpClient.h"
#include "TestSupport.h"
#include "config/ConfigLoader.h"
#include "sim/SimProvider.h"

#include <QLabel>
#include <QUrl>

namespace fusebox::test {

// Two sims, two providers (p1 fails fast: two failures in a row open it for 30 s), a third without a key, and a
// route "default" over p1, p2, written to a real file so route changes are persisted.
struct Console {
    QTemporaryDir dir;
    std::string configPath;
    sim::SimProvider sim1{fastOptions()}, sim2{fastOptions()};
    std::unique_ptr<Engine> engine;
    std::unique_ptr<EngineBridge> bridge;
    std::unique_ptr<MainWindow> window;

    static sim::Options fastOptions() {
        sim::Options o;
        o.eventInterval = Millis{5};
        o.streamEvents = 3;
        return o;
    }

    bool start() {
        if (!sim1.start() || !sim2.start()) return false;
        // data_dir in the rig's temp dir: the journal (and today's spend replayed from it) is this test's alone.
        // One priced model, "priced-model": $1000 / $2000 per million tokens, so spend figures are exact.
        const std::string prices = writeTempFile(
            dir, "prices.json", R"({"models": {"priced-model": {"input_per_mtok": 1000, "output_per_mtok": 2000}}})");
        const std::string json = R"({
  "listen": "127.0.0.1:0",
  "data_dir": ")" + dir.path().toStdString() + R"(/data",
  "prices_file": ")" + prices + R"(",
  "breaker": { "consecutive_failures": 2, "open_s": 30, "jitter": 0 },
  "providers": [
    { "id": "p1", "kind": "openai", "base_url": ")" + sim1.openaiBaseUrl() + R"(", "api_key": "k1" },
    { "id": "p2", "kind": "openai", "base_url": ")" + sim2.openaiBaseUrl() + R"(", "api_key": "k2" },
    { "id": "nokey", "kind": "anthropic", "base_url": "http://127.0.0.1:9", "api_key": "${FUSEBOX_UI_TEST_UNSET_KEY}" }
  ],
  "routes": [ { "name": "default", "targets": [ { "provider": "p1" }, { "provider": "p2" } ] } ]
}
)";
        configPath = writeTempFile(dir, "config.json", json);
        auto loaded = loadConfigFile(configPath);
        if (!loaded.ok()) return false;
        engine = std::make_unique<Engine>(std::move(*loaded.config));
        std::string error;
        if (!engine->start(error)) return false;
        bridge = std::make_unique<EngineBridge>(*engine);
        window = std::make_unique<MainWindow>(*bridge);
        window->show();
        return true;
    }
    ~Console() {
        window.reset();
        bridge.reset();
        if (engine) engine->stop(Millis{0});
    }
    uint16_t port() const { return static_cast<uint16_t>(QUrl(QString::fromStdString(engine->listenUrl())).port()); }
    void chat(int n, const std::string& model = "default") {
        SimHttpClient client(port());
        for (int i = 0; i < n; ++i)
            client.post("/v1/chat/completions",
                        R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hi"}]})");
    }
    BreakerState state(const char* id) { return engine->snapshot().findProvider(id)->breaker.state; }
    template <typename T> T* find(const QString& name) { return window->findChild<T*>(name); }
    QString cardText(const char* provider, const char* label) {
        return window->card(provider)->findChild<QLabel*>(label)->text();
    }
    bool logHas(const QString& needle) {
        for (int r = 0; r < window->eventLog().rowCount(); ++r) {
            QStringList row;
            for (int c = 0; c < EventLogModel::ColumnCount; ++c)
                row << window->eventLog().data(window->eventLog().index(r, c), Qt::DisplayRole).toString();
            if (row.join(" | ").contains(needle)) return true;
        }
        return false;
    }
};


} // namespace fusebox::test
