#pragma once
#include <string>

namespace fusebox {

// A new request id: 32 hex digits from a per-thread generator seeded from the OS.
std::string newRequestId();

} // namespace fusebox
