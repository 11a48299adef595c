#pragma once
// Writes a change back into the config file (CONTRACT §2): only the bytes of what changed (the route's targets
// array; every other byte of the file stays as written), every ${NAME} reference kept as
// written (the file is re-read raw, never from the expanded Config), key order kept, written atomically.
#include "config/Config.h"

#include <string>
#include <vector>

namespace fusebox {

// Replaces the targets of route `route` in the file at `path`. Returns false with `error` set.
bool writeRouteTargets(const std::string& path, const std::string& route, const std::vector<RouteTarget>& targets,
                       std::string& error);

} // namespace fusebox
