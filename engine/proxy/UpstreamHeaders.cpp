#include "proxy/UpstreamHeaders.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace fusebox {

namespace {

// ASCII only, and inline: header names are tokens, and libc's tolower is a call (with a locale) per character.
char asciiLower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

} // namespace

std::string lowerCase(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        c = asciiLower(c);
    return out;
}

std::string_view trimHeaderSpace(std::string_view text) {
    // (Not find_first_not_of: libstdc++ runs a memchr over the set for every character.)
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && space(text.front())) text.remove_prefix(1);
    while (!text.empty() && space(text.back())) text.remove_suffix(1);
    return text;
}

bool isHttpToken(std::string_view text) {
    // A table: one look-up per character instead of eight comparisons (this runs for every header of every call).
    static constexpr auto kToken = [] {
        std::array<bool, 256> table{};
        for (int c = 0x21; c < 0x7f; ++c) table[static_cast<std::size_t>(c)] = true;
        for (char c : std::string_view(":(),;\"")) table[static_cast<unsigned char>(c)] = false;
        return table;
    }();
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return kToken[static_cast<unsigned char>(c)]; });
}

bool hasLineBreakOrNul(std::string_view text) {
    // (Not find_first_of: libstdc++ runs a memchr over the set for every character.)
    return std::any_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool sameHeaderName(std::string_view name, std::string_view lower) {
    return name.size() == lower.size() &&
           std::equal(name.begin(), name.end(), lower.begin(), [](char a, char b) { return asciiLower(a) == b; });
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
