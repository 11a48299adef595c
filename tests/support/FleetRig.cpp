#include "FleetRig.h"

#include "ProxyRig.h"
#include "TestSupport.h"
#include "config/ConfigLoader.h"

namespace fusebox::test {

FleetRig::FleetRig(std::string configJson, int replicas, int running, int sims) : m_config(std::move(configJson)) {
    if (!m_redis.start()) {
        m_error = m_redis.error();
        return;
    }
    m_vars["REDIS_URL"] = m_redis.url();
    for (int i = 0; i < sims; ++i) {
        auto sim = std::make_unique<sim::SimProvider>(ProxyRig::fastSimOptions());
        if (!sim->start()) {
            m_error = "sim did not start: " + sim->lastError();
            return;
        }
        m_vars["SIM" + std::to_string(i)] = sim->openaiBaseUrl();
        m_vars["SIM" + std::to_string(i) + "_ROOT"] = sim->anthropicBaseUrl();
        m_sims.push_back(std::move(sim));
    }
    m_engines.resize(static_cast<std::size_t>(replicas));
    m_ports.resize(static_cast<std::size_t>(replicas));
    for (int i = 0; i < replicas; ++i) m_homes.push_back(std::make_unique<QTemporaryDir>());
    for (int i = 0; i < (running < 0 ? replicas : running); ++i)
        if (!startReplica(i)) return;
}

FleetRig::~FleetRig() {
    for (std::size_t i = 0; i < m_engines.size(); ++i) stopReplica(static_cast<int>(i));
    for (auto& sim : m_sims) sim->stop();
}

bool FleetRig::startReplica(int i) {
    const auto index = static_cast<std::size_t>(i);
    if (m_engines[index]) return true;
    std::map<std::string, std::string> vars = m_vars;
    vars["HOME"] = m_homes[index]->path().toStdString();
    vars["REPLICA"] = replicaId(i);
    LoadOptions options;
    options.env = fakeEnv(vars);
    options.listenOverride = "127.0.0.1:0";
    auto loaded = parseConfig(m_config, "", options);
    if (!loaded.ok()) {
        m_error = formatErrors(loaded.errors);
        return false;
    }
    loaded.config->sourcePath.clear(); // no file to write route orders back to
    auto engine = std::make_unique<Engine>(std::move(*loaded.config));
    if (!engine->start(m_error)) return false;
    const std::string url = engine->listenUrl();
    m_ports[index] = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    m_engines[index] = std::move(engine);
    return true;
}

void FleetRig::stopReplica(int i) {
    auto& engine = m_engines[static_cast<std::size_t>(i)];
    if (!engine) return;
    engine->stop(std::chrono::milliseconds(0));
    engine.reset();
}

} // namespace fusebox::test
