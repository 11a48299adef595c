#pragma once
// Building our own HTTP answers: errors in the calling API's shape, JSON bodies, the x-fusebox headers.
#include "proxy/ClientSession.h"
#include "providers/Dialect.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace fusebox {

// The path of a request target, without its query string.
std::string_view pathOf(std::string_view target);

// The API family a path belongs to, for the shape of an error: /v1/messages is Anthropic's, all else OpenAI's.
ProviderKind familyOfPath(std::string_view target);

// A header value we build from something a client or provider chose (a model name, say): control characters
// (CR and LF would start a header of their own) become '?', and it is clipped to `maxBytes` on a UTF-8
// character boundary.
std::string headerValue(std::string_view text, std::size_t maxBytes = 256);

Response jsonResponse(int status, const nlohmann::json& body, unsigned version = 11);
Response errorResponse(ProviderKind family, int status, const std::string& type, const std::string& message,
                       const std::optional<std::string>& param = std::nullopt, unsigned version = 11);

} // namespace fusebox
