#pragma once
// A fleet for the degraded-mode tests: shared sim providers, a real redis-server (RedisServer), and N
// replicas, each a real Engine in this process listening on port 0 with its own data_dir and replica id
// ("r1", "r2", ...), each reaching Redis through its own TcpRelay (by default), so that a test can make Redis
// slow, hung or gone for one replica alone while the others still reach it. (FleetRig is the plain fleet
// without relays.)
//
// The config is JSON with ${SIM0}, ${SIM1}, ... (the sims' OpenAI base URLs) as in ProxyRig, plus ${REDIS}
// (the URL this replica reaches Redis by), ${REPLICA} (its id), ${PREFIX} and ${DATA} (its data_dir),
// expanded per replica.
#include "Engine.h"
#include "RedisServer.h"
#include "SimHttpClient.h"
#include "TcpRelay.h"
#include "sim/SimProvider.h"

#include <QTemporaryDir>

#include <memory>
#include <string>
#include <vector>

namespace fusebox::test {

class RelayedFleet {
  public:
    struct Options {
        int replicas = 3;
        int sims = 2;
        bool viaRelay = true; // false: replicas reach redis-server directly (a dead port refuses them)
        bool startRedis =
            true; // false: Redis is down when the replicas start (its port is known; start() later)
        std::string prefix = "fleet-test";
    };

    RelayedFleet(std::string configJson, Options options);
    explicit RelayedFleet(std::string configJson) : RelayedFleet(std::move(configJson), Options{}) {}
    ~RelayedFleet();
    RelayedFleet(const RelayedFleet&) = delete;
    RelayedFleet& operator=(const RelayedFleet&) = delete;

    bool ok() const { return m_error.empty(); }
    const std::string& error() const { return m_error; }

    // Starts one more replica (index replicas()), as a replica started later joins.
    bool addReplica();

    int replicas() const { return static_cast<int>(m_engines.size()); }
    Engine& engine(int i) { return *m_engines.at(static_cast<std::size_t>(i)); }
    uint16_t port(int i) const { return m_ports.at(static_cast<std::size_t>(i)); }
    TcpRelay& relay(int i) { return *m_relays.at(static_cast<std::size_t>(i)); }
    RedisServer& redis() { return m_redis; }
    sim::SimProvider& sim(int i) { return *m_sims.at(static_cast<std::size_t>(i)); }
    static std::string replicaId(int i) { return "r" + std::to_string(i + 1); }
    SimHttpClient client(int i, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
        return SimHttpClient(port(i), timeout);
    }

    // What replica i's snapshot says of Redis right now, and whether every replica says `link`.
    RedisLink link(int i) { return engine(i).snapshot().fleet.redis; }
    bool allLinks(RedisLink link);
    // Provider `provider` on replica i: its breaker state, and whose verdict it is ("" when decided there).
    BreakerState state(int i, const std::string& provider);
    std::string origin(int i, const std::string& provider);

  private:
    Options m_options;
    std::string m_config;
    QTemporaryDir m_dir;
    RedisServer m_redis;
    std::vector<std::unique_ptr<sim::SimProvider>> m_sims;
    std::vector<std::unique_ptr<TcpRelay>> m_relays;
    std::vector<std::unique_ptr<Engine>> m_engines;
    std::vector<uint16_t> m_ports;
    std::string m_error;
};

} // namespace fusebox::test
