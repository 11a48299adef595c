#pragma once
// What the fleet sync needs of the engine besides the breakers: applying what another replica did (operator
// commands, route orders) as this engine's own events, and the spend behind daily budgets. Engine implements it.
#include "config/Config.h"

#include <cstddef>
#include <string>
#include <vector>

namespace fusebox {

struct FleetVerdict;

class FleetHost {
public:
    virtual ~FleetHost() = default;
    // An operator's force_open / force_close / reset given on replica `verdict.origin`.
    virtual void applyFleetCommand(std::size_t provider, const std::string& action, const FleetVerdict& verdict) = 0;
    // A route order set on another replica; false when this replica does not know the route or a provider.
    virtual bool applyFleetRoute(const std::string& route, const std::vector<RouteTarget>& targets,
                                 const std::string& origin) = 0;
    virtual std::vector<RouteConfig> fleetRoutes() const = 0;
    // Today's spend counted toward provider's budget here, and the rest of the fleet's.
    virtual double budgetSpendToday(std::size_t provider) const = 0;
    virtual void setFleetSpend(std::size_t provider, double othersUsd) = 0;
};

} // namespace fusebox
