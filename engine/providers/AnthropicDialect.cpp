#include "providers/AnthropicDialect.h"

#include "core/JsonObjectView.h"
#include "core/SimdObjectView.h"

namespace fusebox {

using nlohmann::json;

namespace {

// A Messages usage object, through either view (core/JsonObjectView.h, core/SimdObjectView.h).
template <class Object> void readMessagesUsage(const Object& usage, Usage& out) {
    out.reported = true;
    // message_delta repeats only what changed, so a field that is absent keeps its earlier value.
    auto take = [&](const char* key, int64_t& field) {
        if (const auto value = usage.integer(key)) field = tokenCount(value);
    };
    take("input_tokens", out.inputTokens);
    take("output_tokens", out.outputTokens);
    take("cache_read_input_tokens", out.cacheReadTokens);
    take("cache_creation_input_tokens", out.cacheWriteTokens);
}

void readUsage(const json& usage, Usage& out) {
    if (usage.is_object()) readMessagesUsage(JsonObjectView(usage), out);
}

// Anthropic's error type names, by the HTTP status we answer with.
std::string anthropicType(int status, const std::string& ours) {
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    default: return ours.empty() ? "api_error" : ours;
    }
}

} // namespace

std::string AnthropicDialect::upstreamUrl(const ProviderConfig& provider, ApiEndpoint endpoint) const {
    return provider.baseUrl + (endpoint == ApiEndpoint::CountTokens ? "/v1/messages/count_tokens" : "/v1/messages");
}

void AnthropicDialect::providerHeaders(const ProviderConfig& provider, const ClientHeaders& client,
                                       HeaderList& out) const {
    if (provider.hasKey()) out.emplace_back("x-api-key", provider.apiKey);
    // Every anthropic-* header the client sends passes (anthropic-version, anthropic-beta: the betas Claude Code
    // relies on, prompt caching among them); the version gets the SDKs' default when the client names none.
    bool version = false;
    for (const auto& [name, value] : client) {
        if (!name.starts_with("anthropic-") || neverForwarded(name)) continue;
        out.emplace_back(name, value);
        version = version || name == "anthropic-version";
    }
    if (!version) out.emplace_back("anthropic-version", kDefaultVersion);
}

bool AnthropicDialect::prepareBody(json&, ApiEndpoint, bool) const {
    return false; // Anthropic streams always carry usage
}

Usage AnthropicDialect::usageFromMember(const SimdObjectView& member, ApiEndpoint) const {
    Usage usage;
    readMessagesUsage(member, usage);
    return usage;
}

Usage AnthropicDialect::usageFromBody(const json& body, ApiEndpoint) const {
    Usage usage;
    if (auto it = body.find("usage"); it != body.end()) readUsage(*it, usage);
    return usage;
}

StreamEventInfo AnthropicDialect::inspect(const SseEvent& event, ApiEndpoint, Usage& usage) const {
    StreamEventInfo info;
    if (event.commentOnly) return info;
    const std::string& name = event.event;
    if (name == "content_block_delta") {
        info.content = true;
        return info;
    }
    if (name == "message_stop") {
        info.terminal = true;
        info.final = true;
        return info;
    }
    if (name == "ping" || name == "content_block_start" || name == "content_block_stop") return info;
    const ParsedJson parsed = parseUntrusted(event.data);
    const json& data = parsed.value;
    if (name == "error") {
        info.error = true;
        // Anything may stand here: {"error": {"type": 5}}, a string, nothing at all.
        const json* error = JsonReader::member(data, "error");
        const std::string type = error ? stringOr(*error, "type", "") : std::string();
        info.errorMessage = error && error->is_string() ? error->get<std::string>()
                                                        : stringOr(error ? *error : data, "message", "error event");
        info.errorOutcome = type == "rate_limit_error" ? Outcome::RateLimited : Outcome::ServerError;
        return info;
    }
    if (!parsed.ok() || !data.is_object()) {
        info.error = true;
        info.errorOutcome = Outcome::BadResponse;
        info.errorMessage = "unparseable stream event (" + (parsed.ok() ? std::string("not an object") : parsed.error) + ")";
        return info;
    }
    if (name == "message_start") {
        if (const json* message = JsonReader::member(data, "message"))
            if (const json* u = JsonReader::member(*message, "usage")) readUsage(*u, usage);
    } else if (name == "message_delta") {
        if (const json* u = JsonReader::member(data, "usage")) readUsage(*u, usage);
        // The stop reason comes after the last content block: the answer is whole.
        if (const json* delta = JsonReader::member(data, "delta"))
            if (const json* stop = JsonReader::member(*delta, "stop_reason"))
                info.final = !(stop->is_string() && stop->get_ref<const std::string&>().empty());
    }
    return info;
}

json AnthropicDialect::errorBody(int status, const std::string& type, const std::string& message,
                                 const std::optional<std::string>&) const {
    return {{"type", "error"}, {"error", {{"type", anthropicType(status, type)}, {"message", message}}}};
}

std::string AnthropicDialect::streamErrorEvent(ApiEndpoint, const std::string& message,
                                              const StreamErrorContext&) const {
    const json body = {{"type", "error"}, {"error", {{"type", "api_error"}, {"message", message}}}};
    return "event: error\ndata: " + dumpJson(body) + "\n\n";
}

std::optional<std::string> AnthropicDialect::upstreamErrorMessage(std::string_view body) const {
    const ParsedJson parsed = parseUntrusted(body);
    const json* error = JsonReader::member(parsed.value, "error");
    if (!error) return std::nullopt;
    if (const json* message = JsonReader::member(*error, "message"); message && message->is_string())
        return message->get<std::string>();
    return std::nullopt;
}

} // namespace fusebox
