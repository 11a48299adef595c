#include "RelayedFleet.h"

#include "ProxyRig.h"
#include "config/ConfigLoader.h"

#include <map>

namespace fusebox::test {

namespace {

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

} // namespace

RelayedFleet::RelayedFleet(std::string configJson, Options options)
    : m_options(std::move(options)), m_config(std::move(configJson)) {
    if (!m_dir.isValid()) {
        m_error = "no temporary directory";
        return;
    }
    // Redis gets its port either way; "down at start" is a server that was started once and killed, so the
    // replicas point at a port where nothing listens until the test starts it again there.
    if (!m_redis.start()) {
        m_error = "redis-server: " + m_redis.error();
        return;
    }
    if (!m_options.startRedis) m_redis.kill();
    for (int i = 0; i < m_options.sims; ++i) {
        auto sim = std::make_unique<sim::SimProvider>(ProxyRig::fastSimOptions());
        if (!sim->start()) {
            m_error = "sim did not start: " + sim->lastError();
            return;
        }
        m_sims.push_back(std::move(sim));
    }
    for (int i = 0; i < m_options.replicas; ++i)
        if (!addReplica()) return;
}

RelayedFleet::~RelayedFleet() {
    for (auto& engine : m_engines)
        engine->stop(std::chrono::milliseconds(500));
    m_engines.clear();
    m_relays.clear();
    for (auto& sim : m_sims)
        sim->stop();
}

bool RelayedFleet::addReplica() {
    const int i = replicas();
    std::string redisUrl = m_redis.url();
    if (m_options.viaRelay) {
        m_relays.push_back(std::make_unique<TcpRelay>(m_redis.port()));
        redisUrl = m_relays.back()->url();
    } else {
        m_relays.push_back(nullptr);
    }
    std::map<std::string, std::string> vars = {{"HOME", m_dir.path().toStdString()}};
    for (std::size_t s = 0; s < m_sims.size(); ++s) {
        vars["SIM" + std::to_string(s)] = m_sims[s]->openaiBaseUrl();
        vars["SIM" + std::to_string(s) + "_ROOT"] = m_sims[s]->anthropicBaseUrl();
    }
    std::string config = replaceAll(m_config, "${REDIS}", redisUrl);
    config = replaceAll(config, "${REPLICA}", replicaId(i));
    config = replaceAll(config, "${PREFIX}", m_options.prefix);
    config = replaceAll(config, "${DATA}", m_dir.path().toStdString() + "/" + replicaId(i));
    LoadOptions load;
    load.env = [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
    load.listenOverride = "127.0.0.1:0";
    auto loaded = parseConfig(config, replicaId(i) + ".json", load);
    if (!loaded.ok()) {
        m_error = replicaId(i) + ": " + formatErrors(loaded.errors);
        return false;
    }
    auto engine = std::make_unique<Engine>(std::move(*loaded.config));
    std::string error;
    if (!engine->start(error)) {
        m_error = replicaId(i) + ": " + error;
        return false;
    }
    const std::string url = engine->listenUrl();
    m_ports.push_back(static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))));
    m_engines.push_back(std::move(engine));
    return true;
}

bool RelayedFleet::allLinks(RedisLink link) {
    for (int i = 0; i < replicas(); ++i)
        if (this->link(i) != link) return false;
    return true;
}

BreakerState RelayedFleet::state(int i, const std::string& provider) {
    const auto snapshot = engine(i).snapshot();
    const auto* p = snapshot.findProvider(provider);
    return p ? p->breaker.state : BreakerState::Closed;
}

std::string RelayedFleet::origin(int i, const std::string& provider) {
    const auto snapshot = engine(i).snapshot();
    const auto* p = snapshot.findProvider(provider);
    return p ? p->breaker.originReplica : std::string("?");
}

} // namespace fusebox::test
