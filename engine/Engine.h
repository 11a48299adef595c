#pragma once
// The facade of the engine: the one thing the console, the headless runner and the admin API talk to.
// Operator commands from every surface go through here, so each is the same command and the same event.
#include "Snapshot.h"
#include "config/Config.h"
#include "core/Clock.h"
#include "core/EventBus.h"
#include "core/Random.h"
#include "fleet/FleetHost.h"
#include "spend/PriceTable.h"
#include "spend/SpendLedger.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fusebox {

class AdminHandler;
class AgentActivity;
class CircuitBreaker;
class FleetSync;
class Journal;
class MetricsRegistry;
class ProviderStats;
class ProxyHandler;
class ProxyServer;
class RouteTable;
struct ProxyContext;
class RequestMemoryBudget;
struct AttemptRecord;
namespace sim {
class DemoProviders;
}

// The answer to an operator command: the state afterwards, or why it could not be done.
struct CommandResult {
    bool ok = false;
    int httpStatus = 200; // 404 for an unknown provider or route, 400 for an invalid request
    std::string error;
    std::optional<ProviderSnapshot> provider;
    std::string warning; // done, but something a person should know (e.g. not written to the config file)
};

// Engine is also the fleet sync's host (EngineFleet.cpp): what other replicas did is applied through it.
class Engine : private FleetHost {
public:
    explicit Engine(Config config, Clock& clock = SystemClock::instance(),
                    Random& random = SystemRandom::instance());
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Opens the proxy port (config listen, or its --listen override) and starts the I/O threads.
    // Returns false with `error` set when the port cannot be opened.
    bool start(std::string& error);
    // Stops accepting, drains requests in flight for up to `drain`, stops the I/O threads. Idempotent.
    void stop(std::chrono::milliseconds drain = std::chrono::seconds(10));
    // "http://127.0.0.1:4747" once started.
    std::string listenUrl() const;
    // Client requests being answered right now (0 when not started).
    int64_t requestsInFlight() const;

    const Config& config() const { return m_config; }
    // This replica's id in the fleet and in events: redis.replica_id, else HOSTNAME:PORT (the port once listening).
    std::string replicaId() const;
    EventBus& events() { return m_events; }
    Clock& clock() { return m_clock; }

    EngineSnapshot snapshot() const;

    // Replaces a route's fallback order: validated, applied at once, written back to the config file (when the
    // route is in it), and published as a route event. httpStatus 404 for an unknown route, 400 for bad targets.
    CommandResult setRoute(const std::string& route, const std::vector<RouteTarget>& targets,
                           const std::string& reason = {});

    // --demo drills: inject a fault into a simulated provider. Kinds: "outage" (503), "rate_limit" (429 storm with
    // Retry-After), "slow" (slow bleed: latency and intermittent 500s), "hang", "clear".
    CommandResult drill(const std::string& provider, const std::string& kind);

    CommandResult forceOpen(const std::string& provider, const std::string& reason);
    CommandResult forceClose(const std::string& provider, const std::string& reason);
    CommandResult reset(const std::string& provider, const std::string& reason);

    CircuitBreaker* breaker(std::string_view provider);

    // Spend since `since`, bucketed by minute, hour or day (UTC), one row per bucket and provider:
    // {t, provider, requests, input_tokens, output_tokens, usd, wasted_usd}; `saved` estimates what the breakers
    // saved (README "Spend"). From the journal when it is enabled (history survives a restart), else from memory
    // (the latest 100 000 attempts). Unpriced attempts are not in usd.
    SpendReport spendReport(SpendBucket bucket, WallTime since) const;
    // One CSV row per upstream attempt (refusals included) with since <= time < until, RFC 4180, CRLF, header
    // time,request_id,route,provider,model,outcome,status,ttfb_ms,duration_ms,input_tokens,output_tokens,usd,delivered
    // (time ISO 8601 UTC; usd empty when the model has no price). From the journal when enabled, else memory.
    std::string attemptsCsv(WallTime since, WallTime until) const;
    const PriceTable& prices() const { return m_prices; }
    // The events of earlier runs with `since` <= at, oldest first, from the journal (empty when it is disabled):
    // with events().history() (this run's) they make the incident timeline that survives a restart.
    std::vector<Event> earlierEvents(WallTime since) const;

    // --demo: the engine keeps the simulated providers alive and lets drills reach them.
    void adoptDemo(std::unique_ptr<sim::DemoProviders> demo);
    sim::DemoProviders* demo() { return m_demo.get(); }

private:
    // FleetHost (EngineFleet.cpp)
    void applyFleetCommand(std::size_t provider, const std::string& action, const FleetVerdict& verdict) override;
    bool applyFleetRoute(const std::string& route, const std::vector<RouteTarget>& targets,
                         const std::string& origin) override;
    std::vector<RouteConfig> fleetRoutes() const override;
    double budgetSpendToday(std::size_t provider) const override;
    void setFleetSpend(std::size_t provider, double othersUsd) override;
    void startFleet();
    FleetStatus fleetStatus() const;

    CommandResult operatorCommand(const std::string& provider, const char* action, const std::string& reason);
    ProviderSnapshot providerSnapshot(std::size_t index) const;
    void onAttempt(AttemptRecord&& attempt);
    // The events of an operator action and of a route change. `origin` names the replica a fleet command came from
    // (the event is then marked fromFleet, so the sync does not publish it back); empty for one given here.
    void publishOperatorEvent(const std::string& provider, const std::string& action, std::string reason,
                              const std::string& origin = {});
    void publishRouteEvent(const std::string& route, std::string before, const std::vector<RouteTarget>& after,
                           std::string reason, const std::string& origin = {});
    void openJournal();

    Config m_config;
    Clock& m_clock;
    WallTime m_createdAt; // events at or after it are this run's, and on the bus
    Random& m_random;
    EventBus m_events;
    PriceTable m_prices;
    std::unique_ptr<SpendLedger> m_spend;
    std::unique_ptr<Journal> m_journal; // null when journal.enabled is false or the file cannot be opened
    uint64_t m_journalSubscription = 0;
    std::vector<std::unique_ptr<CircuitBreaker>> m_breakers; // parallel to m_config.providers
    std::vector<std::unique_ptr<ProviderStats>> m_stats;     // parallel to m_config.providers
    std::unique_ptr<sim::DemoProviders> m_demo;
    std::unique_ptr<RouteTable> m_routes;
    std::unique_ptr<RequestMemoryBudget> m_memoryBudget;
    std::unique_ptr<AgentActivity> m_activity;
    std::unique_ptr<ProxyContext> m_proxyContext;
    std::unique_ptr<MetricsRegistry> m_metrics;
    std::unique_ptr<AdminHandler> m_admin; // /admin/v1/* and /metrics
    std::unique_ptr<ProxyHandler> m_handler;
    std::unique_ptr<ProxyServer> m_server; // it stops before what it uses goes away
    mutable std::mutex m_replicaMutex;
    std::string m_replica;
    std::unique_ptr<FleetSync> m_fleet; // null without redis.url; stopped after the server
};

} // namespace fusebox
