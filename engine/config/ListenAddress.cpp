#include "config/ListenAddress.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <arpa/inet.h>

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
    // Decided on the parsed address, never on the text: "127.0.0.1.nip.io" starts like a loopback address and
    // resolves wherever its owner likes. Other names are not resolved here (DNS may answer differently at bind
    // time), so only the literal name "localhost" counts.
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string text(host);
    in_addr v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
        return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127; // ::ffff:127.x.y.z
    }
    constexpr std::string_view kLocalhost = "localhost";
    return std::equal(host.begin(), host.end(), kLocalhost.begin(), kLocalhost.end(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

} // namespace fusebox
