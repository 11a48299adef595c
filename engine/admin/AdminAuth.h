#pragma once
// Who may call the admin API and /metrics (CONTRACT §4): with an admin_token, `Authorization: Bearer TOKEN`
// (compared in constant time); without one, loopback clients only. Pure functions, so every rule is
// unit-tested.
#include <string_view>

namespace fusebox {

struct AdminAccess {
    int status = 200; // 200 allowed, 401 missing or wrong token, 403 not loopback
    const char* message = "";
};

// Compares without an early exit, so the time taken says nothing about how much of a guess was right.
bool constantTimeEquals(std::string_view a, std::string_view b);

// "127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1" are loopback; anything else, or unparseable, is not.
bool isLoopbackAddress(std::string_view address);

AdminAccess checkAdminAccess(std::string_view adminToken, std::string_view authorizationHeader,
                             bool peerIsLoopback);

} // namespace fusebox
