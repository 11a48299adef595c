#pragma once
// OpenAI Chat Completions and Embeddings.
#include "providers/Dialect.h"

namespace fusebox {

class OpenAiDialect final : public Dialect {
public:
    ProviderKind kind() const override { return ProviderKind::OpenAI; }
    std::string upstreamUrl(const ProviderConfig& provider, ApiEndpoint endpoint) const override;
    void providerHeaders(const ProviderConfig& provider, const HeaderLookup& client, HeaderList& out) const override;
    bool prepareBody(nlohmann::json& body, ApiEndpoint endpoint, bool stream) const override;
    Usage usageFromBody(const nlohmann::json& body) const override;
    StreamEventInfo inspect(const SseEvent& event, Usage& usage) const override;
    void dropAddedUsage(std::string& eventBytes) const override;
    nlohmann::json errorBody(int status, const std::string& type, const std::string& message,
                             const std::optional<std::string>& param) const override;
    std::string streamErrorEvent(const std::string& message) const override;
    std::optional<std::string> upstreamErrorMessage(std::string_view body) const override;
};

} // namespace fusebox
