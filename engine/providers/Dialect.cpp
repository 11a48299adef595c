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
