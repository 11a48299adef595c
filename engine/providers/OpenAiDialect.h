#pragma once
// OpenAI: Chat Completions, Embeddings, the Responses API (ResponsesEvents.h) and legacy Completions.
#include "providers/Dialect.h"

namespace fusebox {

class OpenAiDialect final : public Dialect {
public:
    using Dialect::inspect;
    using Dialect::usageFromBody;
    ProviderKind kind() const override { return ProviderKind::OpenAI; }
    ApiEndpoint mainEndpoint() const override { return ApiEndpoint::ChatCompletions; }
    std::string upstreamUrl(const ProviderConfig& provider, ApiEndpoint endpoint) const override;
    void providerHeaders(const ProviderConfig& provider, const ClientHeaders& client, HeaderList& out) const override;
    bool prepareBody(nlohmann::json& body, ApiEndpoint endpoint, bool stream) const override;
    std::optional<std::pair<std::string, bool>> preparedBodyText(std::string_view body, const nlohmann::json& members,
                                                                 ApiEndpoint endpoint, bool stream) const override;
    Usage usageFromBody(const nlohmann::json& body, ApiEndpoint endpoint) const override;
    Usage usageFromMember(const SimdObjectView& usage, ApiEndpoint endpoint) const override;
    StreamEventInfo inspect(const SseEvent& event, ApiEndpoint endpoint, Usage& usage) const override;
    void dropAddedUsage(std::string& eventBytes) const override;
    nlohmann::json errorBody(int status, const std::string& type, const std::string& message,
                             const std::optional<std::string>& param) const override;
    std::string streamErrorEvent(ApiEndpoint endpoint, const std::string& message,
                                 const StreamErrorContext& context) const override;
    std::optional<std::string> upstreamErrorMessage(std::string_view body) const override;
};

} // namespace fusebox
