#include "admin/AdminJson.h"


namespace fusebox {

using nlohmann::json;


namespace {
json optionalNumber(const std::optional<double>& value) {
    return value ? json(*value) : json(nullptr);
}
double rate(uint32_t part, uint32_t whole) {
    return whole == 0 ? 0.0 : static_cast<double>(part) / whole;
}
} // namespace

json providerJson(const ProviderSnapshot& p) {
    const BreakerSnapshot& b = p.breaker;
    json buckets = json::array();
    for (const auto& bucket : b.buckets)
        buckets.push_back({{"t", bucket.t},
                           {"success", bucket.counts.count(Outcome::Success)},
                           {"failure", bucket.counts.failures},
                           {"slow", bucket.counts.slow},
                           {"rate_limited", bucket.counts.count(Outcome::RateLimited)},
                           {"short_circuited", bucket.counts.count(Outcome::ShortCircuited)}});
    json out = {
        {"id", p.id},
        {"kind", providerKindName(p.kind)},
        {"state", std::string(breakerStateName(b.state))},
        {"reason", b.reason},
        {"origin", b.originReplica.empty() ? "local" : "fleet"},
        {"origin_replica", b.originReplica.empty() ? json(nullptr) : json(b.originReplica)},
        {"since", isoTime(b.since)},
        {"retry_after_s", optionalNumber(b.retryAfterS)},
        {"open_count", b.openCount},
        {"consecutive_failures", b.consecutiveFailures},
        {"in_flight", b.inFlight},
        {"window",
         {{"seconds", b.windowSeconds},
          {"calls", b.window.calls},
          {"failures", b.window.failures},
          {"slow", b.window.slow},
          {"failure_rate", rate(b.window.failures, b.window.calls)},
          {"slow_rate", rate(b.window.slow, b.window.calls)},
          {"buckets", std::move(buckets)}}},
        // Extension: what the rate rules add from the rest of the fleet (CONTRACT §5); zeros without one.
        {"fleet_window",
         {{"calls", b.fleetWindow.calls}, {"failures", b.fleetWindow.failures}, {"slow", b.fleetWindow.slow}}},
        {"latency_ms", {{"p50", p.figures.p50Ms}, {"p95", p.figures.p95Ms}, {"p99", p.figures.p99Ms}}},
        // Placeholder until the spend accounting feeds the snapshot: null means "not known", never $0.
        {"spend_usd", p.spendTodayUsd}, // today (UTC), priced attempts only
        {"wasted_usd", p.wastedTodayUsd},
        {"unpriced_attempts", p.unpricedAttempts},
        {"fleet_spend_usd", p.fleetSpendTodayUsd}, // the other replicas' spend today, for the daily budget
        // Extensions: safe to show (a variable name, never a key).
        {"has_key", p.hasKey},
    };
    if (!p.keyHint.empty()) out["key_hint"] = p.keyHint;
    return out;
}

json routeJson(const RouteConfig& route) {
    json targets = json::array();
    for (const auto& t : route.targets)
        targets.push_back(
            {{"provider", t.provider}, {"model", t.model.empty() ? json(nullptr) : json(t.model)}});
    return {{"name", route.name}, {"targets", std::move(targets)}};
}

json routeHealthJson(const RouteHealth& health) {
    json targets = json::array();
    for (const auto& t : health.targets)
        targets.push_back({{"provider", t.provider},
                           {"condition", std::string(providerConditionName(t.health.condition))},
                           {"why", t.health.why},
                           {"retry_after_s", optionalNumber(t.health.retryAfterS)}});
    return {{"state", std::string(routeStateName(health.state))},
            {"retry_after_s", optionalNumber(health.retryAfterS)},
            {"summary", health.summary},
            {"targets", std::move(targets)}};
}

json fleetJson(const FleetStatus& fleet) {
    json replicas = json::array();
    for (const auto& r : fleet.replicas)
        replicas.push_back({{"id", r.id}, {"listen", r.listen}, {"version", r.version}, {"last_seen_s", r.lastSeenS}});
    return {{"enabled", fleet.enabled},
            {"redis", redisLinkName(fleet.redis)},
            {"replica", fleet.replica},
            {"replicas", std::move(replicas)}};
}

json stateJson(const EngineSnapshot& snapshot) {
    json providers = json::array();
    for (const auto& p : snapshot.providers)
        providers.push_back(providerJson(p));
    json routes = json::array();
    for (std::size_t i = 0; i < snapshot.routes.size(); ++i) {
        json route = routeJson(snapshot.routes[i]);
        // Extension (README): what the route's clients get, judged by routing/RouteHealth.
        if (i < snapshot.health.routes.size()) route["health"] = routeHealthJson(snapshot.health.routes[i]);
        routes.push_back(std::move(route));
    }
    return {{"providers", std::move(providers)},
            {"routes", std::move(routes)},
            {"health",
             {{"state", std::string(routeStateName(snapshot.health.state))}, {"summary", snapshot.health.summary}}},
            {"fleet", fleetJson(snapshot.fleet)},
            {"at", isoTime(snapshot.takenAt)}};
}

nlohmann::ordered_json eventJson(const Event& e) {
    nlohmann::ordered_json out = {{"type", eventTypeName(e.type)}, {"seq", e.seq}};
    switch (e.type) {
    case EventType::Breaker:
        out["provider"] = e.provider;
        out["from"] = e.from;
        out["to"] = e.to;
        break;
    case EventType::Operator:
        out["provider"] = e.provider;
        out["action"] = e.action;
        break;
    case EventType::Route:
        out["route"] = e.route;
        out["from"] = e.from;
        out["to"] = e.to;
        break;
    }
    out["reason"] = e.reason;
    out["replica"] = e.replica;
    out["at"] = isoTime(e.at);
    return out;
}

} // namespace fusebox
