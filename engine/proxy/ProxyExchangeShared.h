#pragma once
// What the files of ProxyExchange share (ProxyExchange.cpp, ProxyExchangeStream.cpp, ProxyExchangeAnswers.cpp):
// the bounds on text we keep of what others chose, and what decides whether a request's bytes go as they came.
#include "core/UntrustedJson.h"
#include "providers/Dialect.h"

#include <cstddef>
#include <string>

namespace fusebox::exchange {

constexpr std::size_t kMaxReasonChars = 300;
// What our own headers and journal keep of a client-chosen name (a route or PROVIDER/MODEL).
constexpr std::size_t kMaxNameBytes = 256;

inline std::string clip(const std::string& text) { return clipUtf8(text, kMaxReasonChars); }

// Whether the dialect adds to a streamed request of `endpoint` (stream_options.include_usage), so that the
// client's bytes cannot go as they came.
inline bool addsToStreamedBody(ApiEndpoint endpoint) {
    return endpoint == ApiEndpoint::ChatCompletions || endpoint == ApiEndpoint::Completions;
}

} // namespace fusebox::exchange
