#pragma once
// Which targets a request's `model` selects (CONTRACT §3 "Routing by model"): a route's name selects that route;
// PROVIDER/MODEL goes to that provider alone; anything else goes to the route "default" with the model passed
// through. Routes can be replaced at run time (an operator reorders a chain), so readers take a cheap snapshot.
#include "config/Config.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox {

struct ResolvedTarget {
    std::size_t providerIndex = 0; // into Config::providers
    std::string model;             // what goes upstream: the target's model, else the client's
    bool modelChosen = false;      // the route's target (or a PROVIDER/MODEL request) named the model
};

struct Resolution {
    std::string route; // the route's name, or "PROVIDER/MODEL" for a direct request
    // The route as a metrics label: a client can send endless distinct PROVIDER/MODEL names, and each label
    // lives forever in /metrics, so a direct request for a model no route names is counted as "PROVIDER/*".
    std::string metricsLabel;
    std::vector<ResolvedTarget> targets;
    int waitForRecoveryMs = 0;
    bool direct = false;
    bool found = false; // false: no route matched and there is no "default"
};

class RouteTable {
public:
    RouteTable(const std::vector<ProviderConfig>& providers, std::vector<RouteConfig> routes);

    Resolution resolve(std::string_view model) const;
    std::shared_ptr<const std::vector<RouteConfig>> routes() const;
    // Replaces one route's targets. Returns an error message, or nothing on success.
    std::optional<std::string> setTargets(const std::string& route, std::vector<RouteTarget> targets);

private:
    std::optional<std::size_t> providerIndex(std::string_view id) const;

    const std::vector<ProviderConfig>& m_providers;
    mutable std::mutex m_mutex;
    std::shared_ptr<const std::vector<RouteConfig>> m_routes;
};

// The route named `name` in a snapshot taken with RouteTable::routes(); null when there is none.
const RouteConfig* findRoute(const std::vector<RouteConfig>& routes, std::string_view name);

// "openai/gpt-4o, anthropic": a target order as route events show it.
std::string describeTargets(const std::vector<RouteTarget>& targets);

} // namespace fusebox
