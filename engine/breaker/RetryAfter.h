#pragma once
// Parses an HTTP Retry-After value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
#include "core/Clock.h"

#include <optional>
#include <string>
#include <string_view>

namespace fusebox {

// The delay from `now`; a date in the past gives zero. nullopt when the value is neither form.
std::optional<Millis> parseRetryAfter(std::string_view value, WallTime now);

// Formats a time as an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string formatHttpDate(WallTime time);

} // namespace fusebox
