#pragma once
// A running proxy for tests: simulated providers on loopback and a real Engine listening on port 0, built from a
// config written as JSON. In the config, ${SIM0}, ${SIM1}, ... expand to the sims' OpenAI base URLs and
// ${SIM0_ROOT}, ... to their Anthropic ones (the same server speaks both).
#include "Engine.h"
#include "SimHttpClient.h"
#include "sim/SimProvider.h"

#include <QTemporaryDir>

#include <memory>
#include <string>
#include <vector>

namespace fusebox::test {

class ProxyRig {
public:
    // `simOptions` applies to every sim; `sims` is how many to start.
    ProxyRig(const std::string& configJson, int sims = 2, sim::Options simOptions = fastSimOptions());
    ~ProxyRig();

    static sim::Options fastSimOptions(); // 10 ms between events, 5 events, key "sim-key"

    bool ok() const { return m_engine != nullptr; }
    const std::string& error() const { return m_error; }
    Engine& engine() { return *m_engine; }
    sim::SimProvider& sim(int i) { return *m_sims[static_cast<std::size_t>(i)]; }
    uint16_t port() const { return m_port; }
    SimHttpClient client(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
        return SimHttpClient(m_port, timeout);
    }
    // How many requests reached sim i for a path (e.g. "/v1/chat/completions").
    int requestsAt(int i, const std::string& path);
    // The status of an ordinary chat completion through the proxy: 200 while it still serves, after whatever a
    // test threw at it.
    int ordinaryChatStatus() const;

    // The rig's own HOME: the default data_dir (and so the journal) lives under it, one per rig.
    std::string home() const { return m_home.path().toStdString(); }

private:
    QTemporaryDir m_home;
    std::vector<std::unique_ptr<sim::SimProvider>> m_sims;
    std::unique_ptr<Engine> m_engine;
    std::string m_error;
    uint16_t m_port = 0;
};

} // namespace fusebox::test
