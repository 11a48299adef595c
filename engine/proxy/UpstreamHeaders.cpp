#include "proxy/UpstreamHeaders.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace fusebox {

std::string lowerCase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trimHeaderSpace(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n";
    const auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

bool isHttpToken(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return c > 0x20 && c < 0x7f && c != ':' && c != '(' && c != ')' && c != ',' && c != ';' && c != '"';
    });
}

bool hasLineBreakOrNul(std::string_view text) {
    return text.find_first_of(std::string_view("\r\n\0", 3)) != text.npos;
}

bool sameHeaderName(std::string_view name, std::string_view lower) {
    return name.size() == lower.size() &&
           std::equal(name.begin(), name.end(), lower.begin(), [](unsigned char a, unsigned char b) {
               return static_cast<unsigned char>(std::tolower(a)) == b;
           });
}

// Headers the client (or the connection) owns: forwarding a caller's copy would corrupt framing or routing.
bool isClientOwnedHeader(std::string_view name) {
    static constexpr std::array<std::string_view, 9> kOwned = {
        "host",       "content-length",   "transfer-encoding", "connection",
        "keep-alive", "proxy-connection", "upgrade",           "te",
        "expect"};
    return std::any_of(kOwned.begin(), kOwned.end(), [name](std::string_view owned) { return sameHeaderName(name, owned); });
}

} // namespace fusebox
