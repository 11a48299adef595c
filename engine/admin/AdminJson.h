#pragma once
// The JSON shapes of the admin API (CONTRACT §4), shared by every endpoint that returns them.
#include "Snapshot.h"
#include "core/Event.h"
#include "core/TimeFormat.h"

#include <nlohmann/json.hpp>

#include <string>

namespace fusebox {

// One provider as in GET /admin/v1/state; also the answer to force-open / force-close / reset.
nlohmann::json providerJson(const ProviderSnapshot& provider);
nlohmann::json routeJson(const RouteConfig& route);
nlohmann::json stateJson(const EngineSnapshot& snapshot);
nlohmann::json routeHealthJson(const RouteHealth& health);
// GET /admin/v1/state's "fleet" (CONTRACT §5).
nlohmann::json fleetJson(const FleetStatus& fleet);
// One event of GET /admin/v1/events.
nlohmann::ordered_json eventJson(const Event& event);

} // namespace fusebox
