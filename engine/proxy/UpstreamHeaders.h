#pragma once
// The header rules of an upstream call, the same whichever client carries it (libcurl, or PlainHttpCall for
// plain http://): which of the caller's request headers go out and how, and how a response's header line is
// normalised for UpstreamHead.
#include "proxy/UpstreamTypes.h"

#include <string>
#include <string_view>

namespace fusebox {

std::string lowerCase(std::string_view text);
// Without leading and trailing spaces, tabs, CR and LF.
std::string_view trimHeaderSpace(std::string_view text);
// RFC 9110 token characters, roughly: no controls, no separators we would mis-frame. For methods and names.
bool isHttpToken(std::string_view text);

// Calls fn(name, trimmedValue) for each header of `headers` that goes upstream, in order: not one the
// client owns (Host, Content-Length, Transfer-Encoding, Connection, Keep-Alive, Proxy-Connection, Upgrade, TE,
// Expect), not one whose name is no token or whose value holds CR, LF or NUL (it would inject headers).
template <class Fn> void forEachForwardedHeader(const HeaderList& headers, Fn&& fn);

// ASCII case-insensitive equality, for header names (`lower` is lower-case already).
bool sameHeaderName(std::string_view name, std::string_view lower);
bool isClientOwnedHeader(std::string_view name);
bool hasLineBreakOrNul(std::string_view text);

// (No allocation per header: this runs for every header of every request.)
template <class Fn> void forEachForwardedHeader(const HeaderList& headers, Fn&& fn) {
    for (const auto& [name, value] : headers) {
        if (!isHttpToken(name) || hasLineBreakOrNul(value) || isClientOwnedHeader(name)) continue;
        fn(std::string_view(name), trimHeaderSpace(value));
    }
}

} // namespace fusebox
