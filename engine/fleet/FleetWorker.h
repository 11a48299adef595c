#pragma once
// The fleet sync's state machine, on the sync thread only (FleetSync owns the thread and hands it events).
// Connect (command and pub/sub connections) -> joined -> every 250 ms one sync script call; any loss ->
// degraded -> reconnect with backoff.
#include "breaker/FleetSeam.h"
#include "config/RedisUrl.h"
#include "core/Event.h"
#include "fleet/FleetMessages.h"
#include "fleet/FleetStatus.h"
#include "fleet/FleetSync.h"
#include "fleet/RedisConnection.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <map>
#include <mutex>
#include <optional>

namespace fusebox {

class FleetWorker {
public:
    FleetWorker(RedisConfig config, std::string replica, std::string listenUrl, std::vector<FleetProvider> providers,
                FleetHost& host);
    boost::asio::io_context& io() { return m_io; }
    void begin();
    void shutdown();
    void onLocalEvent(const Event& event);
    FleetStatus status() const;

private:
    struct Slot {
        FleetProvider provider;
        std::size_t index = 0;
        uint64_t appliedGeneration = 0; // the newest fleet verdict applied (or published) here
        bool pending = false;           // a local change not yet in Redis
        uint64_t changes = 0;           // bumped on every local change, so a late reply does not clear a newer one
        bool publishing = false;
        std::string pendingAction;      // force_open, force_close, reset: the pending change is an operator's
        uint64_t grantedGeneration = 0; // the breaker generation this replica holds the probe lease for
        std::chrono::steady_clock::time_point grantedAt{};
        bool claiming = false;
    };
    struct RouteSlot {
        uint64_t generation = 0;
        bool pending = false;
        uint64_t changes = 0;
        bool publishing = false;
    };
    using Reply = fleet::RedisConnection::ReplyHandler;
    enum ScriptIndex : std::size_t { kSync, kVerdict, kRoute, kRenewProbe };

    void connect();
    void openWith(const fleet::RedisEndpoint& endpoint);
    void loadScripts(std::size_t next);
    void openSubscriber();
    void joined();
    void lost(const std::string& why);
    void setLink(RedisLink link, const std::string& why);
    bool connected() const { return m_link == RedisLink::Connected; }

    void armTick();
    void tick();
    void onSyncAnswer(const fleet::SyncAnswer& answer);
    void seed();
    void republishAll();
    void publishPending();
    void publishVerdict(Slot& slot);
    void publishRoute(const std::string& name);
    void onChannel(const std::string& text);
    void applyVerdict(Slot& slot, const fleet::VerdictMessage& verdict, int64_t remainingMs);
    void applyRoute(const fleet::RouteMessage& route);
    void markChanged(Slot& slot);
    void claimProbe(Slot& slot); // FleetProbeLease.cpp
    void keepProbe(Slot& slot);
    void evalScript(std::size_t script, std::vector<std::string> keys, std::vector<std::string> args, Reply reply);
    Slot* slotFor(const std::string& provider);
    int64_t redisNowMs() const;
    void recordDelay(double seconds);

    RedisConfig m_config;
    std::string m_replica;
    std::string m_instance; // this process: a message it published itself is not applied again when it comes back
    std::string m_listenUrl;
    FleetHost& m_host;
    std::optional<RedisUrl> m_url;
    std::vector<Slot> m_slots;
    std::map<std::string, RouteSlot> m_routes;

    boost::asio::io_context m_io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> m_work;
    boost::asio::ip::tcp::resolver m_resolver;
    boost::asio::steady_timer m_tickTimer;
    boost::asio::steady_timer m_reconnectTimer;
    fleet::RedisConnection m_command;
    fleet::RedisConnection m_subscriber;
    fleet::RedisEndpoint m_endpoint;
    std::array<std::string, 4> m_shas;
    bool m_stopping = false;
    bool m_reconnectScheduled = false;
    bool m_syncInFlight = false;
    Millis m_backoff{100};
    std::string m_epoch;
    int64_t m_offsetMs = 0; // Redis's clock minus this machine's wall clock, from the last sync answer
    RedisLink m_link = RedisLink::Degraded;
    std::optional<RedisLink> m_logged;

    mutable std::mutex m_statusMutex;
    FleetStatus m_status;
};

} // namespace fusebox
