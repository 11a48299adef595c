#pragma once
// How one target of a route takes the client's request (CONTRACT §3 "Fallback across APIs"): as it is, when the
// provider serves the client's endpoint itself; translated, when the provider is asked in another API (the other
// family, or Chat Completions for an "api": "chat" provider: "cross-API" is upstreamEndpoint() != the client's
// endpoint); or not at all, with the reason the 503's attempts show (embeddings at Anthropic, count_tokens at an
// OpenAI-kind provider, what a translation cannot carry). Decided before the target's breaker is asked.
#include "providers/ApiTranslation.h"
#include "providers/Dialect.h"
#include "routing/RouteTable.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace fusebox {

struct TargetApi {
    ApiEndpoint upstream = ApiEndpoint::ChatCompletions; // what the provider is asked in
    std::optional<nlohmann::json> crossBody; // the translated request, when upstream differs from the client's
    std::string skipReason;                  // or: why the target is skipped
    std::string invalid;                     // or: the request itself is malformed, naming the field (a 400)
    bool usable() const { return skipReason.empty() && invalid.empty(); }
};

TargetApi targetApi(const nlohmann::json& body, ApiEndpoint endpoint, const ResolvedTarget& target,
                    const ProviderConfig& provider);

} // namespace fusebox
