#include "ProxyRig.h"

#include "SimRequests.h"
#include "TestSupport.h"
#include "config/ConfigLoader.h"

#include <map>

namespace fusebox::test {

sim::Options ProxyRig::fastSimOptions() {
    sim::Options options;
    options.eventInterval = Millis{10};
    options.streamEvents = 5;
    options.apiKey = "sim-key";
    return options;
}

ProxyRig::ProxyRig(const std::string& configJson, int sims, sim::Options simOptions) {
    std::map<std::string, std::string> vars = {{"HOME", home()}};
    for (int i = 0; i < sims; ++i) {
        auto sim = std::make_unique<sim::SimProvider>(simOptions);
        if (!sim->start()) {
            m_error = "sim did not start: " + sim->lastError();
            return;
        }
        vars["SIM" + std::to_string(i)] = sim->openaiBaseUrl();
        vars["SIM" + std::to_string(i) + "_ROOT"] = sim->anthropicBaseUrl();
        m_sims.push_back(std::move(sim));
    }
    LoadOptions options;
    options.env = fakeEnv(vars);
    options.listenOverride = "127.0.0.1:0";
    auto loaded = parseConfig(configJson, "rig.json", options);
    if (!loaded.ok()) {
        m_error = formatErrors(loaded.errors);
        return;
    }
    auto engine = std::make_unique<Engine>(std::move(*loaded.config));
    if (!engine->start(m_error)) return;
    const std::string url = engine->listenUrl();
    m_port = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    m_engine = std::move(engine);
}

ProxyRig::~ProxyRig() {
    if (m_engine) m_engine->stop(std::chrono::milliseconds(500));
    m_engine.reset();
    for (auto& sim : m_sims) sim->stop();
}

int ProxyRig::ordinaryChatStatus() const {
    return client().post("/v1/chat/completions", chatRequest("still there?").dump()).status;
}

int ProxyRig::requestsAt(int i, const std::string& path) {
    int n = 0;
    for (const auto& r : sim(i).recentRequests())
        if (r.target.starts_with(path)) ++n;
    return n;
}

} // namespace fusebox::test
