#pragma once
#include "core/Clock.h"

#include <string>

namespace fusebox {

// ISO-8601 UTC with milliseconds, e.g. "2026-11-22T06:41:21.123Z": log lines, the admin API, the journal.
std::string isoTime(WallTime at);

} // namespace fusebox
