// Engine as the fleet sync's host: starting the sync, and applying what other replicas did as this engine's own
// commands and events (marked fromFleet, so the sync does not publish them back).
#include "Engine.h"

#include "breaker/CircuitBreaker.h"
#include "fleet/FleetSync.h"
#include "proxy/ProxyServer.h"
#include "routing/RouteTable.h"

namespace fusebox {

std::string Engine::replicaId() const {
    std::lock_guard lock(m_replicaMutex);
    return m_replica;
}

void Engine::startFleet() {
    if (m_config.redis.replicaId.empty()) {
        // HOSTNAME:PORT with the port really listened on (the config may say 0).
        std::lock_guard lock(m_replicaMutex);
        m_replica = defaultReplicaId(m_server->port());
        m_events.setReplica(m_replica);
    }
    if (!m_config.redis.enabled() || m_fleet) return;
    std::vector<FleetProvider> providers;
    for (std::size_t i = 0; i < m_config.providers.size(); ++i) {
        const ProviderConfig& p = m_config.providers[i];
        providers.push_back({p.id, m_breakers[i].get(), p.timeouts.firstByte, p.breaker.windowS});
    }
    m_fleet = std::make_unique<FleetSync>(m_config.redis, replicaId(), listenUrl(), std::move(providers),
                                          static_cast<FleetHost&>(*this), m_events);
    m_fleet->start();
}

FleetStatus Engine::fleetStatus() const {
    if (m_fleet) return m_fleet->status();
    FleetStatus status;
    status.enabled = m_config.redis.enabled();
    status.redis = status.enabled ? RedisLink::Degraded : RedisLink::Off; // configured, not started yet
    status.replica = replicaId();
    return status;
}

void Engine::applyFleetCommand(std::size_t provider, const std::string& action, const FleetVerdict& verdict) {
    if (provider >= m_breakers.size()) return;
    FleetVerdict v = verdict;
    if (action == "force_open") v.state = BreakerState::ForcedOpen;
    else if (action == "force_close") v.state = BreakerState::ForcedClosed;
    else {
        v.state = BreakerState::Closed;
        v.clearWindow = true;
        m_spend->resetBudget(provider); // as a reset given here would (CONTRACT §2)
    }
    m_breakers[provider]->applyFleetVerdict(v);
    publishOperatorEvent(m_config.providers[provider].id, action, verdict.reason + " [replica " + verdict.origin + "]",
                         verdict.origin);
}

bool Engine::applyFleetRoute(const std::string& route, const std::vector<RouteTarget>& targets,
                             const std::string& origin) {
    const auto routes = m_routes->routes();
    const RouteConfig* current = findRoute(*routes, route);
    if (current == nullptr) return false;
    if (current->targets == targets) return true;
    const std::string before = describeTargets(current->targets);
    if (m_routes->setTargets(route, targets)) return false;
    // Only the replica where the order was made writes its config file (CONTRACT §5).
    publishRouteEvent(route, before, targets, "fallback order changed [replica " + origin + "]", origin);
    return true;
}

std::vector<RouteConfig> Engine::fleetRoutes() const { return *m_routes->routes(); }

double Engine::budgetSpendToday(std::size_t provider) const { return m_spend->budgetSpendToday(provider); }

void Engine::setFleetSpend(std::size_t provider, double othersUsd) { m_spend->setFleetSpend(provider, othersUsd); }

} // namespace fusebox
