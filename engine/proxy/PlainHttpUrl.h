#pragma once
// A plain http:// URL, taken apart for PlainHttpCall. Only the plain shapes are accepted: anything unusual (user
// info, a scheme other than http, characters a request line cannot carry, a bad port) is left to libcurl, which
// answers it in its own, long-tested way.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fusebox {

struct PlainHttpUrl {
    std::string host;       // as written, without the brackets of an IPv6 literal
    std::uint16_t port = 80;
    std::string hostHeader; // the Host header's value: the host, and the port when the URL names one
    std::string target;     // path and query, "/" at least; the fragment dropped (it is not sent)
    std::string poolKey;    // host and port: connections to the same key are interchangeable
};

std::optional<PlainHttpUrl> parsePlainHttpUrl(std::string_view url);

} // namespace fusebox
