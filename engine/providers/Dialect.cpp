#include "providers/Dialect.h"

#include "providers/AnthropicDialect.h"
#include "providers/OpenAiDialect.h"

#include <algorithm>

namespace fusebox {

ProviderKind apiFamily(ApiEndpoint endpoint) {
    return endpoint == ApiEndpoint::Messages || endpoint == ApiEndpoint::CountTokens ? ProviderKind::Anthropic
                                                                                        : ProviderKind::OpenAI;
}

const char* endpointPath(ApiEndpoint endpoint) {
    switch (endpoint) {
    case ApiEndpoint::ChatCompletions: return "/v1/chat/completions";
    case ApiEndpoint::Embeddings: return "/v1/embeddings";
    case ApiEndpoint::Messages: return "/v1/messages";
    case ApiEndpoint::Responses: return "/v1/responses";
    case ApiEndpoint::Completions: return "/v1/completions";
    case ApiEndpoint::CountTokens: return "/v1/messages/count_tokens";
    }
    return "";
}

bool servesEndpoint(const ProviderConfig& provider, ApiEndpoint endpoint) {
    if (apiFamily(endpoint) != provider.kind) return false;
    return endpoint != ApiEndpoint::Responses || provider.servesResponses;
}

std::string apiDescription(const ProviderConfig& provider) {
    std::string text = std::string("the ") + providerKindName(provider.kind) + " API";
    if (provider.kind == ProviderKind::OpenAI && !provider.servesResponses) text += " (Chat Completions only)";
    return text;
}

bool neverForwarded(std::string_view name) {
    // Credentials by name, whatever their spelling (authorization, x-api-key, api-key, cookie,
    // x-goog-api-key, openai-api-key, ...), and the headers of this HTTP connection, which Fusebox and curl
    // set for the provider's connection themselves.
    for (std::string_view secret : {"auth", "key", "token", "secret", "cookie", "password", "credential"})
        if (name.find(secret) != std::string_view::npos) return true;
    for (std::string_view own : {"host", "content-length", "content-type", "content-encoding", "transfer-encoding",
                                 "connection", "keep-alive", "te", "trailer", "upgrade", "expect", "accept",
                                 "accept-encoding", "user-agent", "x-request-id", "forwarded", "via"})
        if (name == own) return true;
    return name.starts_with("x-forwarded-") || name.starts_with("proxy-");
}

int64_t tokenField(const nlohmann::json& object, std::string_view key) {
    return std::clamp<int64_t>(integerField(object, key), 0, kMaxTokenCount);
}

const Dialect& dialectFor(ProviderKind kind) {
    static const OpenAiDialect openai;
    static const AnthropicDialect anthropic;
    if (kind == ProviderKind::Anthropic) return anthropic;
    return openai;
}

} // namespace fusebox
