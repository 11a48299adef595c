#pragma once
// The fleet's background sync (CONTRACT §5): publishes this replica's verdicts, window totals, spend and route
// orders to Redis, and applies the fleet's to the local breakers. Nothing here is on the request path: requests
// read and write the breakers' memory only, and this class reaches them through their fleet seam.
//
// It runs on its own thread and io_context, not on the proxy's I/O pool: a slow reply parse or a Lua answer for
// many providers then never delays a proxied request, hiredis (not thread-safe) is used from one thread only, and
// the fleet starts, reconnects and stops independently of the listener. Its cost is one mostly idle thread.
//
// Redis unavailable (down, hung, restarted empty, cut off) is a normal state, "degraded": the breakers go on
// alone with the last verdicts they were given, and the sync reconnects with backoff (capped at 1 s, so a
// replica rejoins within ~2 s of Redis answering), then re-publishes what changed here meanwhile.
#include "config/Config.h"
#include "core/EventBus.h"
#include "fleet/FleetStatus.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fusebox {

class CircuitBreaker;
class FleetHost;
class FleetWorker;

struct FleetProvider {
    std::string id;
    CircuitBreaker* breaker = nullptr;
    Millis probeLease{60000}; // the provider's first_byte timeout (CONTRACT §5)
    int windowS = 60;
};

class FleetSync {
public:
    FleetSync(RedisConfig config, std::string replica, std::string listenUrl, std::vector<FleetProvider> providers,
              FleetHost& host, EventBus& events);
    ~FleetSync();
    FleetSync(const FleetSync&) = delete;
    FleetSync& operator=(const FleetSync&) = delete;

    // Starts the thread and the first connection attempt; returns at once (serving never waits for Redis).
    void start();
    void stop();

    FleetStatus status() const;
    const std::string& replica() const { return m_replica; }

private:
    RedisConfig m_config;
    std::string m_replica;
    std::unique_ptr<FleetWorker> m_worker;
    EventBus& m_events;
    uint64_t m_subscription = 0;
    std::thread m_thread;
};

// HOSTNAME:PORT, the default replica id.
std::string defaultReplicaId(uint16_t port);

} // namespace fusebox
