#include "config/ListenAddress.h"

#include <charconv>

namespace fusebox {

std::optional<ListenAddress> parseListenAddress(std::string_view text, std::string& error) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        error = "must be HOST:PORT, e.g. 127.0.0.1:4747 (got \"" + std::string(text) + "\")";
        return std::nullopt;
    }
    std::string_view host = text.substr(0, colon);
    const std::string_view portText = text.substr(colon + 1);
    if (host.front() == '[') {
        if (host.back() != ']' || host.size() < 3) {
            error = "IPv6 hosts are written in brackets, e.g. [::1]:4747 (got \"" + std::string(text) + "\")";
            return std::nullopt;
        }
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        error = "IPv6 hosts are written in brackets, e.g. [::1]:4747 (got \"" + std::string(text) + "\")";
        return std::nullopt;
    }
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (portText.empty() || ec != std::errc{} || ptr != portText.data() + portText.size() || port > 65535) {
        error = "port must be a number from 0 to 65535 (got \"" + std::string(portText) + "\")";
        return std::nullopt;
    }
    return ListenAddress{std::string(host), static_cast<uint16_t>(port)};
}

bool isLoopbackHost(std::string_view host) {
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

} // namespace fusebox
