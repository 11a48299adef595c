#pragma once
// The immutable picture of the engine the console and the admin API read: taken on request, copied out, never
// shared with engine internals.
#include "breaker/CircuitBreaker.h"
#include "config/Config.h"
#include "fleet/FleetStatus.h"
#include "routing/ProviderStats.h"
#include "routing/RouteHealth.h"
#include "spend/SpendLedger.h"

#include <string>
#include <vector>

namespace fusebox {

struct ProviderSnapshot {
    std::string id;
    ProviderKind kind = ProviderKind::OpenAI;
    std::string baseUrl;
    bool hasKey = false;
    std::string keyHint; // "set OPENAI_API_KEY" when there is no key; never the key itself
    BreakerSnapshot breaker;
    ProviderFigures figures;
    std::optional<double> budgetUsdPerDay;
    double spendTodayUsd = 0;      // priced attempts today (UTC)
    double wastedTodayUsd = 0;     // of which the answer did not reach the client whole
    uint64_t unpricedAttempts = 0; // attempts with usage but no price, since start (never counted as $0)
    std::optional<BudgetRefusal> budgetRefusal; // set while its daily budget is spent (refused like an open breaker)
    double fleetSpendTodayUsd = 0; // the other replicas' spend toward today's budget
};

struct EngineSnapshot {
    WallTime takenAt{};
    std::string listenUrl; // empty until the proxy port is open
    std::vector<ProviderSnapshot> providers;
    std::vector<RouteConfig> routes;
    OverallHealth health; // what clients get, per route and overall (routing/RouteHealth.h)
    int64_t agentRequestsInFlight = 0; // agent requests (/v1/...) being answered right now
    uint64_t agentRequestsLastMinute = 0; // agent requests received over the last 60 s
    FleetStatus fleet; // enabled false and redis "off" without redis.url

    const ProviderSnapshot* findProvider(std::string_view id) const;
};

} // namespace fusebox
