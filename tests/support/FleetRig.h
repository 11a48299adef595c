#pragma once
// A fleet for tests: one real redis-server (RedisServer), simulated providers shared by every replica, and
// N Engines in this process, each on its own port, data_dir and replica id ("r0", "r1", ...). The config is the
// same for all; ${SIM0}, ${SIM0_ROOT}, ... expand as in ProxyRig, ${REDIS_URL} to the server's URL and
// ${REPLICA} to the replica's id. A replica can be started late, stopped, or started again.
#include "Engine.h"
#include "RedisServer.h"
#include "SimHttpClient.h"
#include "sim/SimProvider.h"

#include <QTemporaryDir>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fusebox::test {

class FleetRig {
public:
    // Starts Redis and the sims, and replicas 0 .. `running`-1 of `replicas`.
    FleetRig(std::string configJson, int replicas, int running = -1, int sims = 2);
    ~FleetRig();

    bool ok() const { return m_error.empty(); }
    const std::string& error() const { return m_error; }

    bool startReplica(int i);
    void stopReplica(int i); // the engine stops at once (no drain) and goes away
    bool running(int i) const { return m_engines[static_cast<std::size_t>(i)] != nullptr; }
    Engine& engine(int i) { return *m_engines[static_cast<std::size_t>(i)]; }
    uint16_t port(int i) const { return m_ports[static_cast<std::size_t>(i)]; }
    SimHttpClient client(int i, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
        return SimHttpClient(port(i), timeout);
    }
    sim::SimProvider& sim(int i) { return *m_sims[static_cast<std::size_t>(i)]; }
    RedisServer& redis() { return m_redis; }
    static std::string replicaId(int i) { return "r" + std::to_string(i); }

    // Extra variables for the config (set before startReplica).
    void setVariable(const std::string& name, const std::string& value) { m_vars[name] = value; }

private:
    std::string m_config;
    RedisServer m_redis;
    std::vector<std::unique_ptr<sim::SimProvider>> m_sims;
    std::vector<std::unique_ptr<QTemporaryDir>> m_homes;
    std::vector<std::unique_ptr<Engine>> m_engines;
    std::vector<uint16_t> m_ports;
    std::map<std::string, std::string> m_vars;
    std::string m_error;
};

} // namespace fusebox::test
