#include "providers/OpenAiDialect.h"

namespace fusebox {

using nlohmann::json;

namespace {

int64_t integerAt(const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

bool nonEmpty(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return false;
    if (it->is_string()) return !it->get_ref<const std::string&>().empty();
    if (it->is_array() || it->is_object()) return !it->empty();
    return true;
}

void readUsage(const json& usage, Usage& out) {
    if (!usage.is_object()) return;
    out.reported = true;
    out.inputTokens = integerAt(usage, "prompt_tokens");
    out.outputTokens = integerAt(usage, "completion_tokens");
    if (auto details = usage.find("prompt_tokens_details"); details != usage.end() && details->is_object())
        out.cacheReadTokens = integerAt(*details, "cached_tokens");
}

// OpenAI error codes that mean "slow down" rather than "broken".
bool isRateLimitError(const json& error) {
    const std::string type = error.value("type", std::string());
    const std::string code = error.contains("code") && error["code"].is_string() ? error["code"].get<std::string>() : "";
    return type == "rate_limit_exceeded" || code == "rate_limit_exceeded" || type == "requests" || type == "tokens";
}

} // namespace

std::string OpenAiDialect::upstreamUrl(const ProviderConfig& provider, ApiEndpoint endpoint) const {
    return provider.baseUrl + (endpoint == ApiEndpoint::Embeddings ? "/embeddings" : "/chat/completions");
}

void OpenAiDialect::providerHeaders(const ProviderConfig& provider, const HeaderLookup& client, HeaderList& out) const {
    if (provider.hasKey()) out.emplace_back("Authorization", "Bearer " + provider.apiKey);
    for (const char* passed : {"openai-organization", "openai-project"})
        if (auto value = client(passed)) out.emplace_back(passed, *value);
}

bool OpenAiDialect::prepareBody(json& body, ApiEndpoint endpoint, bool stream) const {
    if (endpoint != ApiEndpoint::ChatCompletions || !stream) return false;
    // Streamed answers carry usage only when asked; we always ask, so spend is exact, and strip the extra chunk
    // again when the client did not ask itself.
    bool clientAsked = false;
    auto options = body.find("stream_options");
    if (options != body.end() && options->is_object()) clientAsked = options->value("include_usage", false);
    body["stream_options"]["include_usage"] = true;
    return clientAsked;
}

Usage OpenAiDialect::usageFromBody(const json& body) const {
    Usage usage;
    if (auto it = body.find("usage"); it != body.end()) readUsage(*it, usage);
    return usage;
}

StreamEventInfo OpenAiDialect::inspect(const SseEvent& event, Usage& usage) const {
    StreamEventInfo info;
    if (event.commentOnly) return info;
    if (event.data == "[DONE]") {
        info.terminal = true;
        return info;
    }
    const json chunk = json::parse(event.data, nullptr, false);
    if (chunk.is_discarded() || !chunk.is_object()) {
        info.error = true;
        info.errorOutcome = Outcome::BadResponse;
        info.errorMessage = "unparseable stream event";
        return info;
    }
    if (auto error = chunk.find("error"); error != chunk.end()) {
        info.error = true;
        info.errorOutcome = isRateLimitError(*error) ? Outcome::RateLimited : Outcome::ServerError;
        info.errorMessage = error->is_object() ? error->value("message", std::string("error event")) : "error event";
        return info;
    }
    if (auto u = chunk.find("usage"); u != chunk.end() && u->is_object()) readUsage(*u, usage);
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array()) return info;
    if (choices->empty()) {
        info.usageOnly = chunk.contains("usage") && chunk["usage"].is_object();
        return info;
    }
    for (const auto& choice : *choices) {
        auto delta = choice.find("delta");
        if (delta == choice.end() || !delta->is_object()) continue;
        if (nonEmpty(*delta, "content") || nonEmpty(*delta, "tool_calls") || nonEmpty(*delta, "function_call") ||
            nonEmpty(*delta, "refusal") || nonEmpty(*delta, "reasoning_content") || nonEmpty(*delta, "audio"))
            info.content = true;
    }
    return info;
}

json OpenAiDialect::errorBody(int status, const std::string& type, const std::string& message,
                              const std::optional<std::string>& param) const {
    // OpenAI files every 4xx under invalid_request_error and says what exactly in `code` (model_not_found);
    // our 503s carry their own type and code (circuit_open, upstream_unavailable), as the contract has them.
    const bool clientError = status >= 400 && status < 500;
    json error = {{"message", message},
                  {"type", clientError ? "invalid_request_error" : type},
                  {"param", nullptr},
                  {"code", type == "invalid_request_error" ? json(nullptr) : json(type)}};
    if (param) error["param"] = *param;
    return {{"error", std::move(error)}};
}

std::string OpenAiDialect::streamErrorEvent(const std::string& message) const {
    const json body = errorBody(502, "upstream_stream_interrupted", message, std::nullopt);
    return "data: " + body.dump() + "\n\n";
}

std::optional<std::string> OpenAiDialect::upstreamErrorMessage(std::string_view body) const {
    const json parsed = json::parse(body, nullptr, false);
    if (!parsed.is_object()) return std::nullopt;
    auto error = parsed.find("error");
    if (error == parsed.end()) return std::nullopt;
    if (error->is_string()) return error->get<std::string>();
    if (error->is_object() && error->contains("message") && (*error)["message"].is_string())
        return (*error)["message"].get<std::string>();
    return std::nullopt;
}

} // namespace fusebox
