#include "proxy/TargetApi.h"

namespace fusebox {

TargetApi targetApi(const nlohmann::json& body, ApiEndpoint endpoint, const ResolvedTarget& target,
                    const ProviderConfig& provider) {
    TargetApi api;
    api.upstream = upstreamEndpoint(endpoint, provider);
    // Built only for a reason that is given (every request passes here).
    const auto speaks = [&provider] { return "provider " + provider.id + " speaks " + apiDescription(provider) + ": "; };
    if (api.upstream == endpoint) {
        if (!servesEndpoint(provider, endpoint))
            api.skipReason = speaks() + endpointPath(endpoint) + " has no counterpart in the other API";
        return api;
    }
    // Crossing to the other family needs a model for the other side: the client's means nothing to it. Within
    // OpenAI's family (Responses to Chat Completions) the client's model is the provider's own.
    if (!target.modelChosen && provider.kind != apiFamily(endpoint)) {
        api.skipReason = speaks() + "crossing APIs needs a model for it: set the route target's \"model\" (or ask for " +
                         provider.id + "/MODEL)";
        return api;
    }
    RequestTranslation translation = translateRequest(body, endpoint, api.upstream, target.model);
    if (!translation.invalid.empty()) api.invalid = std::move(translation.invalid);
    else if (!translation.body) api.skipReason = speaks() + translation.whyNot;
    else api.crossBody = std::move(translation.body);
    if (api.crossBody && api.upstream == ApiEndpoint::ChatCompletions && provider.servesResponses) {
        // A provider that serves the Responses API is OpenAI's own (or Azure's): its reasoning models refuse
        // max_tokens, and all of its models take max_completion_tokens. Chat-only servers (vLLM, Ollama, ...)
        // keep max_tokens, which is what they all know.
        auto& body = *api.crossBody;
        if (auto it = body.find("max_tokens"); it != body.end()) {
            body["max_completion_tokens"] = std::move(*it);
            body.erase("max_tokens");
        }
    }
    return api;
}

} // namespace fusebox
