#include "proxy/PlainHttpUrl.h"

#include <algorithm>
#include <cctype>

namespace fusebox {

namespace {

bool sendable(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

bool hostCharacters(std::string_view host) {
    return !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '-' || c == '_';
    });
}

} // namespace

std::optional<PlainHttpUrl> parsePlainHttpUrl(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (url.size() <= kScheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < kScheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(url[i])) != kScheme[i]) return std::nullopt;
    url.remove_prefix(kScheme.size());
    if (!sendable(url)) return std::nullopt;

    const std::size_t authorityEnd = std::min(url.find_first_of("/?#"), url.size());
    const std::string_view authority = url.substr(0, authorityEnd);
    std::string_view rest = url.substr(authorityEnd);
    if (authority.find('@') != std::string_view::npos) return std::nullopt;

    PlainHttpUrl out;
    std::string_view portText;
    if (authority.starts_with('[')) { // [IPv6]
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        out.host = std::string(authority.substr(1, close - 1));
        if (out.host.empty() || out.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
            return std::nullopt;
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            portText = after.substr(1);
        }
    } else {
        const std::size_t colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        if (!hostCharacters(out.host)) return std::nullopt;
        if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
    }
    if (authority.find(':') != std::string_view::npos && !authority.starts_with('[') && portText.empty())
        return std::nullopt; // "host:" with no port
    if (!portText.empty()) {
        if (portText.size() > 5 || !std::all_of(portText.begin(), portText.end(), [](unsigned char c) {
                return std::isdigit(c);
            }))
            return std::nullopt;
        const int port = std::stoi(std::string(portText));
        if (port < 1 || port > 65535) return std::nullopt;
        out.port = static_cast<std::uint16_t>(port);
    }

    if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
    out.target = rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
    out.hostHeader = std::string(authority);
    out.poolKey = out.host + " " + std::to_string(out.port);
    return out;
}

} // namespace fusebox
