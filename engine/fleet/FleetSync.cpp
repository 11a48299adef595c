#include "fleet/FleetSync.h"

#include "core/Log.h"
#include "fleet/FleetWorker.h"

#include <boost/asio/post.hpp>

#include <unistd.h>

namespace fusebox {

const char* redisLinkName(RedisLink link) {
    switch (link) {
    case RedisLink::Off: return "off";
    case RedisLink::Connected: return "connected";
    case RedisLink::Degraded: return "degraded";
    }
    return "off";
}

std::string defaultReplicaId(uint16_t port) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "localhost");
    return std::string(host) + ":" + std::to_string(port);
}

FleetSync::FleetSync(RedisConfig config, std::string replica, std::string listenUrl,
                     std::vector<FleetProvider> providers, FleetHost& host, EventBus& events)
    : m_config(config), m_replica(replica),
      m_worker(std::make_unique<FleetWorker>(std::move(config), std::move(replica), std::move(listenUrl),
                                             std::move(providers), host)),
      m_events(events) {}

FleetSync::~FleetSync() { stop(); }

void FleetSync::start() {
    if (m_thread.joinable()) return;
    // The sink runs on whichever thread published (perhaps under a breaker's lock): it only posts.
    m_subscription = m_events.subscribe([worker = m_worker.get()](const Event& event) {
        boost::asio::post(worker->io(), [worker, event] { worker->onLocalEvent(event); });
    });
    boost::asio::post(m_worker->io(), [worker = m_worker.get()] { worker->begin(); });
    m_thread = std::thread([worker = m_worker.get()] {
        for (;;) {
            try {
                worker->io().run();
                return;
            } catch (const std::exception& e) {
                // A bug in the sync must not end the process that serves requests; the loop goes on.
                Log::error(std::string("fleet: sync thread caught: ") + e.what(), {});
            }
        }
    });
}

void FleetSync::stop() {
    if (!m_thread.joinable()) return;
    m_events.unsubscribe(m_subscription);
    boost::asio::post(m_worker->io(), [worker = m_worker.get()] { worker->shutdown(); });
    m_thread.join();
}

FleetStatus FleetSync::status() const { return m_worker->status(); }

} // namespace fusebox
