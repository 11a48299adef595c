#include "providers/Dialect.h"

#include "providers/AnthropicDialect.h"
#include "providers/OpenAiDialect.h"

namespace fusebox {

ProviderKind apiFamily(ApiEndpoint endpoint) {
    return endpoint == ApiEndpoint::Messages ? ProviderKind::Anthropic : ProviderKind::OpenAI;
}

const char* endpointPath(ApiEndpoint endpoint) {
    switch (endpoint) {
    case ApiEndpoint::ChatCompletions: return "/v1/chat/completions";
    case ApiEndpoint::Embeddings: return "/v1/embeddings";
    case ApiEndpoint::Messages: return "/v1/messages";
    }
    return "";
}

const Dialect& dialectFor(ProviderKind kind) {
    static const OpenAiDialect openai;
    static const AnthropicDialect anthropic;
    if (kind == ProviderKind::Anthropic) return anthropic;
    return openai;
}

} // namespace fusebox
