#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fusebox {

struct ListenAddress {
    std::string host; // without IPv6 brackets
    uint16_t port = 0;
};

// "127.0.0.1:4747", "localhost:0", "[::1]:4747". nullopt with `error` set when malformed.
std::optional<ListenAddress> parseListenAddress(std::string_view text, std::string& error);
// True only for an IP literal that is loopback (127.0.0.0/8, ::1, ::ffff:127.x.y.z; IPv6 with or without
// brackets) or the name "localhost" in any case. Any other name is not loopback, whatever it looks like.
bool isLoopbackHost(std::string_view host);

} // namespace fusebox
