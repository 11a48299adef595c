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
bool isLoopbackHost(std::string_view host);

} // namespace fusebox
