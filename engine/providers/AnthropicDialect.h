#pragma once
// Anthropic Messages (and its count_tokens).
#include "providers/Dialect.h"

namespace fusebox {

class AnthropicDialect final : public Dialect {
public:
    // Sent when the client names no version: the one every current SDK sends.
    static constexpr const char* kDefaultVersion = "2023-06-01";

    using Dialect::inspect;
    using Dialect::usageFromBody;

    ProviderKind kind() const override { return ProviderKind::Anthropic; }
    ApiEndpoint mainEndpoint() const override { return ApiEndpoint::Messages; }
    std::string upstreamUrl(const ProviderConfig& provider, ApiEndpoint endpoint) const override;
    void providerHeaders(const ProviderConfig& provider, const ClientHeaders& client, HeaderList& out) const override;
    bool prepareBody(nlohmann::json& body, ApiEndpoint endpoint, bool stream) const override;
    Usage usageFromBody(const nlohmann::json& body, ApiEndpoint endpoint) const override;
    Usage usageFromMember(const SimdObjectView& usage, ApiEndpoint endpoint) const override;
    StreamEventInfo inspect(const SseEvent& event, ApiEndpoint endpoint, Usage& usage) const override;
    void dropAddedUsage(std::string&) const override {} // prepareBody adds nothing
    nlohmann::json errorBody(int status, const std::string& type, const std::string& message,
                             const std::optional<std::string>& param) const override;
    std::string streamErrorEvent(ApiEndpoint endpoint, const std::string& message,
                                 const StreamErrorContext& context) const override;
    std::optional<std::string> upstreamErrorMessage(std::string_view body) const override;
};

} // namespace fusebox
