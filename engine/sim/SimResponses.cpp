#include "sim/SimResponses.h"

#include <algorithm>
#include <array>

namespace fusebox::sim {

namespace {

// Ordered, so events read like the real APIs' (Anthropic's "type" first), for people reading a capture.
using OJson = nlohmann::ordered_json;

// Messages may carry bytes from a test or a request target; a bad UTF-8 byte must not throw on a loop thread.
std::string dump(const OJson& json) {
    return json.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

constexpr std::array<std::string_view, 8> kWords = {"Fusebox", "sim", "says",      "hello",
                                                    "from",    "a",   "simulated", "provider."};

// The path without its query string.
std::string_view pathOnly(std::string_view target) {
    return target.substr(0, target.find('?'));
}

std::size_t textBytes(const nlohmann::json& content) {
    if (content.is_string()) return content.get_ref<const std::string&>().size();
    std::size_t bytes = 0;
    if (content.is_array())
        for (const auto& part : content)
            if (part.is_object() && part.contains("text") && part["text"].is_string())
                bytes += part["text"].get_ref<const std::string&>().size();
    return bytes;
}

std::size_t messagesBytes(const nlohmann::json& request) {
    std::size_t bytes = 0;
    if (auto it = request.find("messages"); it != request.end() && it->is_array())
        for (const auto& message : *it)
            if (message.is_object() && message.contains("content")) bytes += textBytes(message["content"]);
    return bytes;
}

// Strings count their bytes; token arrays (one level or nested) count 4 bytes per token.
std::size_t embeddingInputBytes(const nlohmann::json& input) {
    if (input.is_string()) return input.get_ref<const std::string&>().size();
    if (input.is_number_integer()) return 4;
    std::size_t bytes = 0;
    if (input.is_array())
        for (const auto& item : input)
            bytes += embeddingInputBytes(item);
    return bytes;
}

std::string sseData(const OJson& payload) {
    return "data: " + dump(payload) + "\n\n";
}
std::string sseEvent(std::string_view name, const OJson& payload) {
    return "event: " + std::string(name) + "\ndata: " + dump(payload) + "\n\n";
}

OJson openaiUsage(const Reply& reply) {
    return {{"prompt_tokens", reply.inputTokens},
            {"completion_tokens", reply.outputTokens},
            {"total_tokens", reply.inputTokens + reply.outputTokens},
            {"prompt_tokens_details", {{"cached_tokens", reply.cacheReadTokens}}}};
}

OJson anthropicUsage(const Reply& reply, int outputTokens) {
    return {{"input_tokens", reply.inputTokens},
            {"cache_creation_input_tokens", reply.cacheCreationTokens},
            {"cache_read_input_tokens", reply.cacheReadTokens},
            {"output_tokens", outputTokens}};
}

const char* openaiFinish(const Reply& reply) {
    return reply.truncated ? "length" : "stop";
}
const char* anthropicStop(const Reply& reply) {
    return reply.truncated ? "max_tokens" : "end_turn";
}

OJson chunk(const Reply& reply, OJson choices) {
    OJson c = {
        {"id", reply.id},       {"object", "chat.completion.chunk"},      {"created", reply.created},
        {"model", reply.model}, {"system_fingerprint", "fp_fusebox_sim"}, {"choices", std::move(choices)}};
    // OpenAI marks every chunk with usage:null once usage was asked for; only the last one carries it.
    if (reply.includeUsage) c["usage"] = nullptr;
    return c;
}

OJson choiceDelta(OJson delta, const char* finish) {
    OJson choice = {{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}};
    choice["finish_reason"] = finish ? OJson(finish) : OJson(nullptr);
    return choice;
}

const char* openaiCodeFor(int status) {
    switch (status) {
    case 401:
        return "invalid_api_key";
    case 429:
        return "rate_limit_exceeded";
    default:
        return nullptr;
    }
}

const char* reasonPhrase(int status) {
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 529:
        return "Overloaded";
    default:
        return "Error";
    }
}

} // namespace

Endpoint endpointOf(std::string_view target) {
    const std::string_view path = pathOnly(target);
    if (path == "/v1/chat/completions") return Endpoint::ChatCompletions;
    if (path == "/v1/embeddings") return Endpoint::Embeddings;
    if (path == "/v1/messages") return Endpoint::Messages;
    if (path == "/v1/models") return Endpoint::Models;
    if (path == "/v1/responses") return Endpoint::Responses;
    if (path == "/v1/completions") return Endpoint::Completions;
    if (path == "/v1/messages/count_tokens") return Endpoint::CountTokens;
    return Endpoint::Unknown;
}

Dialect dialectOf(Endpoint endpoint, std::string_view target) {
    if (endpoint == Endpoint::Messages || endpoint == Endpoint::CountTokens) return Dialect::Anthropic;
    if (endpoint == Endpoint::Unknown && pathOnly(target).find("/messages") != std::string_view::npos)
        return Dialect::Anthropic;
    return Dialect::OpenAI;
}

std::string contentPiece(int index) {
    const std::string_view word = kWords[static_cast<std::size_t>(index) % kWords.size()];
    return (index > 0 ? " " : "") + std::string(word);
}

std::string contentText(int count) {
    std::string text;
    for (int i = 0; i < count; ++i)
        text += contentPiece(i);
    return text;
}

int inputTokensFor(const nlohmann::json& request, Endpoint endpoint) {
    std::size_t bytes = 0;
    if (request.is_object()) {
        if (endpoint == Endpoint::Embeddings) {
            if (auto it = request.find("input"); it != request.end()) bytes = embeddingInputBytes(*it);
        } else if (endpoint == Endpoint::Responses) {
            if (auto it = request.find("instructions"); it != request.end()) bytes += textBytes(*it);
            if (auto it = request.find("input"); it != request.end()) {
                if (it->is_string()) bytes += it->get_ref<const std::string&>().size();
                else if (it->is_array())
                    for (const auto& item : *it)
                        if (item.is_object() && item.contains("content")) bytes += textBytes(item["content"]);
            }
        } else if (endpoint == Endpoint::Completions) {
            if (auto it = request.find("prompt"); it != request.end()) bytes = embeddingInputBytes(*it);
        } else {
            bytes = messagesBytes(request);
            if (endpoint == Endpoint::Messages || endpoint == Endpoint::CountTokens)
                if (auto it = request.find("system"); it != request.end()) bytes += textBytes(*it);
        }
    }
    return std::max(1, static_cast<int>((bytes + 3) / 4));
}

int outputTokensFor(const nlohmann::json& request, Endpoint endpoint, int streamEvents) {
    int count = std::max(1, streamEvents);
    if (!request.is_object()) return count;
    for (const char* key : {"max_tokens", "max_completion_tokens", "max_output_tokens"}) {
        const std::string_view name = key;
        // Each API reads its own: Messages and legacy completions max_tokens, Responses max_output_tokens.
        if (endpoint == Endpoint::Responses ? name != "max_output_tokens"
            : endpoint == Endpoint::Messages || endpoint == Endpoint::Completions ? name != "max_tokens"
                                                                                   : name == "max_output_tokens")
            continue;
        if (auto it = request.find(key); it != request.end() && it->is_number_integer())
            count = std::min(count, std::max(1, it->get<int>()));
    }
    return count;
}

std::string chatCompletionBody(const Reply& reply) {
    OJson message = {
        {"role", "assistant"}, {"content", contentText(reply.outputTokens)}, {"refusal", nullptr}};
    OJson body = {{"id", reply.id},
                  {"object", "chat.completion"},
                  {"created", reply.created},
                  {"model", reply.model},
                  {"system_fingerprint", "fp_fusebox_sim"},
                  {"choices", OJson::array({{{"index", 0},
                                             {"message", std::move(message)},
                                             {"logprobs", nullptr},
                                             {"finish_reason", openaiFinish(reply)}}})},
                  {"usage", openaiUsage(reply)}};
    return dump(body);
}

std::string messageBody(const Reply& reply) {
    OJson body = {{"id", reply.id},
                  {"type", "message"},
                  {"role", "assistant"},
                  {"model", reply.model},
                  {"content", OJson::array({{{"type", "text"}, {"text", contentText(reply.outputTokens)}}})},
                  {"stop_reason", anthropicStop(reply)},
                  {"stop_sequence", nullptr},
                  {"usage", anthropicUsage(reply, reply.outputTokens)}};
    return dump(body);
}

std::string embeddingsBody(const nlohmann::json& request, const Reply& reply, int dimensions) {
    std::size_t inputs = 1;
    if (auto it = request.find("input"); it != request.end() && it->is_array() && !it->empty()) {
        // A flat token array is one input; an array of strings or of token arrays is one input each.
        const auto& first = it->front();
        inputs = first.is_string() || first.is_array() ? it->size() : 1;
    }
    OJson data = OJson::array();
    for (std::size_t i = 0; i < inputs; ++i) {
        OJson vector = OJson::array();
        for (int d = 0; d < dimensions; ++d)
            vector.push_back(static_cast<double>((static_cast<int>(i) * 31 + d * 7) % 100) / 100.0 - 0.5);
        data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(vector)}});
    }
    OJson body = {{"object", "list"},
                  {"data", std::move(data)},
                  {"model", reply.model},
                  {"usage", {{"prompt_tokens", reply.inputTokens}, {"total_tokens", reply.inputTokens}}}};
    return dump(body);
}

std::string modelsBody(const std::vector<std::string>& models, Dialect dialect) {
    OJson data = OJson::array();
    for (const auto& id : models) {
        if (dialect == Dialect::Anthropic)
            data.push_back({{"type", "model"},
                            {"id", id},
                            {"display_name", id},
                            {"created_at", "2025-01-01T00:00:00Z"}});
        else
            data.push_back(
                {{"id", id}, {"object", "model"}, {"created", 1735689600}, {"owned_by", "fusebox-sim"}});
    }
    if (dialect == Dialect::OpenAI) return dump(OJson{{"object", "list"}, {"data", std::move(data)}});
    OJson body = {{"data", data}, {"has_more", false}};
    body["first_id"] = models.empty() ? OJson(nullptr) : OJson(models.front());
    body["last_id"] = models.empty() ? OJson(nullptr) : OJson(models.back());
    return dump(body);
}

StreamScript chatCompletionStream(const Reply& reply) {
    StreamScript script;
    script.preamble =
        sseData(chunk(reply, OJson::array({choiceDelta({{"role", "assistant"}, {"content", ""}}, nullptr)})));
    for (int i = 0; i < reply.outputTokens; ++i)
        script.content.push_back(
            sseData(chunk(reply, OJson::array({choiceDelta({{"content", contentPiece(i)}}, nullptr)}))));
    script.epilogue =
        sseData(chunk(reply, OJson::array({choiceDelta(OJson::object(), openaiFinish(reply))})));
    if (reply.includeUsage) {
        OJson last = chunk(reply, OJson::array());
        last["usage"] = openaiUsage(reply);
        script.epilogue += sseData(last);
    }
    script.epilogue += "data: [DONE]\n\n";
    return script;
}

StreamScript messageStream(const Reply& reply) {
    StreamScript script;
    OJson message = {{"id", reply.id},
                     {"type", "message"},
                     {"role", "assistant"},
                     {"model", reply.model},
                     {"content", OJson::array()},
                     {"stop_reason", nullptr},
                     {"stop_sequence", nullptr},
                     {"usage", anthropicUsage(reply, 1)}};
    script.preamble = sseEvent("message_start", {{"type", "message_start"}, {"message", std::move(message)}});
    script.preamble += sseEvent(
        "content_block_start",
        {{"type", "content_block_start"}, {"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}});
    script.preamble += sseEvent("ping", {{"type", "ping"}});
    for (int i = 0; i < reply.outputTokens; ++i)
        script.content.push_back(sseEvent("content_block_delta",
                                          {{"type", "content_block_delta"},
                                           {"index", 0},
                                           {"delta", {{"type", "text_delta"}, {"text", contentPiece(i)}}}}));
    script.epilogue = sseEvent("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}});
    script.epilogue += sseEvent(
        "message_delta", {{"type", "message_delta"},
                          {"delta", {{"stop_reason", anthropicStop(reply)}, {"stop_sequence", nullptr}}},
                          {"usage", {{"output_tokens", reply.outputTokens}}}});
    script.epilogue += sseEvent("message_stop", {{"type", "message_stop"}});
    return script;
}

const char* errorType(Dialect dialect, int status) {
    if (dialect == Dialect::Anthropic) {
        switch (status) {
        case 401:
            return "authentication_error";
        case 402:
            return "billing_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 503:
        case 529:
            return "overloaded_error";
        case 504:
            return "timeout_error";
        default:
            return status >= 500 ? "api_error" : "invalid_request_error";
        }
    }
    switch (status) {
    case 403:
        return "permission_error";
    case 429:
        return "rate_limit_error";
    default:
        return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

std::string defaultErrorMessage(int status) {
    return "fusebox sim: " + std::to_string(status) + " " + reasonPhrase(status);
}

std::string errorBody(Dialect dialect, int status, std::string_view message, std::string_view code) {
    const std::string text = message.empty() ? defaultErrorMessage(status) : std::string(message);
    if (dialect == Dialect::Anthropic)
        return dump(
            OJson{{"type", "error"}, {"error", {{"type", errorType(dialect, status)}, {"message", text}}}});
    OJson error = {{"message", text}, {"type", errorType(dialect, status)}, {"param", nullptr}};
    const char* fallback = openaiCodeFor(status);
    error["code"] = !code.empty() ? OJson(std::string(code)) : fallback ? OJson(fallback) : OJson(nullptr);
    return dump(OJson{{"error", std::move(error)}});
}

std::string streamErrorEvent(Dialect dialect, int status, std::string_view message) {
    const std::string body = errorBody(dialect, status, message);
    if (dialect == Dialect::Anthropic) return "event: error\ndata: " + body + "\n\n";
    return "data: " + body + "\n\n";
}

std::string garbageBody(bool streamed) {
    // A data line whose JSON breaks off, then HTML from some middlebox: no parser can make an answer of it.
    if (streamed)
        return "data: {\"id\":\"chatcmpl-garbage\",\"choices\":[{\"delta\":{\"content\":\n\n<html>oops";
    return "<html><body><h1>200 OK</h1>{\"id\": \"garbage\", \"choices\": [</body></html>";
}

} // namespace fusebox::sim
