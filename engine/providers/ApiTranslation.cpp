#include "providers/ApiTranslation.h"

#include <algorithm>
#include <chrono>

namespace fusebox {

using nlohmann::json;

namespace {

// OpenAI finish_reason <-> Anthropic stop_reason.
std::string finishFromStop(const std::string& stopReason) {
    if (stopReason == "max_tokens") return "length";
    if (stopReason == "tool_use") return "tool_calls";
    if (stopReason == "refusal") return "content_filter";
    return "stop"; // end_turn, stop_sequence, pause_turn
}

std::string stopFromFinish(const std::string& finishReason) {
    if (finishReason == "length") return "max_tokens";
    if (finishReason == "tool_calls" || finishReason == "function_call") return "tool_use";
    if (finishReason == "content_filter") return "refusal";
    return "end_turn";
}

bool present(const json& body, const char* key) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return false;
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_array() || it->is_object() || it->is_string()) return !it->empty();
    return true;
}

// A message's content as plain text: a string, or text parts / blocks ({"type":"text","text":...}) joined by
// newlines. Anything else (images, documents, tool results) cannot cross: nullopt, with `whyNot`.
std::optional<std::string> textOf(const json& content, std::string& whyNot) {
    if (content.is_null()) return std::string();
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) {
        whyNot = "message content is neither text nor a list of parts";
        return std::nullopt;
    }
    std::string text;
    for (const auto& part : content) {
        const std::string type = part.is_object() ? part.value("type", std::string()) : std::string();
        if (type != "text" || !part.contains("text") || !part["text"].is_string()) {
            whyNot = "content of type '" + (type.empty() ? std::string("unknown") : type) +
                     "' has no counterpart in the other API";
            return std::nullopt;
        }
        if (!text.empty()) text += '\n';
        text += part["text"].get<std::string>();
    }
    return text;
}

int64_t unixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<json> anthropicFromOpenAi(const json& body, const std::string& model, std::string& whyNot) {
    for (const char* key : {"tools", "functions", "function_call", "logprobs", "top_logprobs", "audio", "prediction"})
        if (present(body, key)) {
            whyNot = std::string("'") + key + "' has no counterpart in the Anthropic Messages API";
            return std::nullopt;
        }
    if (auto it = body.find("tool_choice"); it != body.end() && !it->is_null() && *it != "none") {
        whyNot = "'tool_choice' has no counterpart without tools";
        return std::nullopt;
    }
    if (auto it = body.find("n"); it != body.end() && it->is_number() && it->get<double>() != 1) {
        whyNot = "'n' (several choices) has no counterpart in the Anthropic Messages API";
        return std::nullopt;
    }
    if (auto it = body.find("response_format");
        it != body.end() && it->is_object() && it->value("type", std::string("text")) != "text") {
        whyNot = "'response_format' (structured output) has no counterpart in the Anthropic Messages API";
        return std::nullopt;
    }
    auto messages = body.find("messages");
    if (messages == body.end() || !messages->is_array()) {
        whyNot = "'messages' is not a list";
        return std::nullopt;
    }
    std::string system;
    json turns = json::array();
    for (const auto& message : *messages) {
        const std::string role = message.is_object() ? message.value("role", std::string()) : std::string();
        if (message.is_object() && (present(message, "tool_calls") || present(message, "function_call"))) {
            whyNot = "tool calls have no counterpart here";
            return std::nullopt;
        }
        auto text = textOf(message.is_object() ? message.value("content", json()) : json(), whyNot);
        if (!text) return std::nullopt;
        if (role == "system" || role == "developer") {
            if (!system.empty() && !text->empty()) system += "\n\n";
            system += *text;
        } else if (role == "user" || role == "assistant") {
            turns.push_back({{"role", role}, {"content", *text}});
        } else {
            whyNot = "messages of role '" + role + "' have no counterpart in the Anthropic Messages API";
            return std::nullopt;
        }
    }
    if (turns.empty()) {
        whyNot = "there is no user or assistant message";
        return std::nullopt;
    }
    json out = {{"model", model}, {"messages", std::move(turns)}};
    if (!system.empty()) out["system"] = system;
    // Anthropic requires max_tokens; OpenAI makes it optional.
    int64_t maxTokens = 4096;
    for (const char* key : {"max_tokens", "max_completion_tokens"})
        if (auto it = body.find(key); it != body.end() && it->is_number_integer() && it->get<int64_t>() > 0)
            maxTokens = it->get<int64_t>();
    out["max_tokens"] = maxTokens;
    if (auto it = body.find("temperature"); it != body.end() && it->is_number())
        out["temperature"] = std::min(it->get<double>(), 1.0); // OpenAI goes to 2, Anthropic to 1
    if (auto it = body.find("top_p"); it != body.end() && it->is_number()) out["top_p"] = *it;
    if (auto it = body.find("stop"); it != body.end()) {
        if (it->is_string()) out["stop_sequences"] = json::array({*it});
        else if (it->is_array() && !it->empty()) out["stop_sequences"] = *it;
    }
    if (auto it = body.find("stream"); it != body.end() && it->is_boolean()) out["stream"] = *it;
    if (auto it = body.find("user"); it != body.end() && it->is_string()) out["metadata"] = {{"user_id", *it}};
    return out;
}

std::optional<json> openAiFromAnthropic(const json& body, const std::string& model, std::string& whyNot) {
    for (const char* key : {"tools", "tool_choice", "mcp_servers", "container"})
        if (present(body, key)) {
            whyNot = std::string("'") + key + "' has no counterpart in the OpenAI Chat Completions API";
            return std::nullopt;
        }
    if (auto it = body.find("thinking"); it != body.end() && it->is_object() && it->value("type", "") == "enabled") {
        whyNot = "extended thinking has no counterpart in the OpenAI Chat Completions API";
        return std::nullopt;
    }
    auto messages = body.find("messages");
    if (messages == body.end() || !messages->is_array() || messages->empty()) {
        whyNot = "'messages' is not a non-empty list";
        return std::nullopt;
    }
    json turns = json::array();
    if (auto it = body.find("system"); it != body.end()) {
        auto system = textOf(*it, whyNot);
        if (!system) return std::nullopt;
        if (!system->empty()) turns.push_back({{"role", "system"}, {"content", *system}});
    }
    for (const auto& message : *messages) {
        const std::string role = message.is_object() ? message.value("role", std::string()) : std::string();
        if (role != "user" && role != "assistant") {
            whyNot = "messages of role '" + role + "' have no counterpart in the OpenAI Chat Completions API";
            return std::nullopt;
        }
        auto text = textOf(message.value("content", json()), whyNot);
        if (!text) return std::nullopt;
        turns.push_back({{"role", role}, {"content", *text}});
    }
    json out = {{"model", model}, {"messages", std::move(turns)}};
    if (auto it = body.find("max_tokens"); it != body.end() && it->is_number_integer()) out["max_tokens"] = *it;
    for (const char* key : {"temperature", "top_p"})
        if (auto it = body.find(key); it != body.end() && it->is_number()) out[key] = *it;
    if (auto it = body.find("stop_sequences"); it != body.end() && it->is_array() && !it->empty()) out["stop"] = *it;
    if (auto it = body.find("stream"); it != body.end() && it->is_boolean()) out["stream"] = *it;
    if (auto it = body.find("metadata"); it != body.end() && it->is_object() && it->contains("user_id") &&
                                          (*it)["user_id"].is_string())
        out["user"] = (*it)["user_id"];
    return out;
}

// OpenAI counts cached prompt tokens inside prompt_tokens; Anthropic counts cache reads and writes apart.
json openAiUsage(int64_t input, int64_t output, int64_t cacheRead, int64_t cacheWrite) {
    const int64_t prompt = input + cacheRead + cacheWrite;
    return {{"prompt_tokens", prompt},
            {"completion_tokens", output},
            {"total_tokens", prompt + output},
            {"prompt_tokens_details", {{"cached_tokens", cacheRead}}}};
}

json anthropicUsage(int64_t prompt, int64_t output, int64_t cached) {
    json usage = {{"input_tokens", std::max<int64_t>(0, prompt - cached)}, {"output_tokens", output}};
    if (cached > 0) usage["cache_read_input_tokens"] = cached;
    return usage;
}

std::string sseEvent(const char* name, const json& data) {
    return std::string("event: ") + name + "\ndata: " + data.dump() + "\n\n";
}

} // namespace

bool translatable(ApiEndpoint endpoint) {
    return endpoint == ApiEndpoint::ChatCompletions || endpoint == ApiEndpoint::Messages;
}

ApiEndpoint upstreamEndpoint(ApiEndpoint endpoint, ProviderKind kind) {
    if (apiFamily(endpoint) == kind || !translatable(endpoint)) return endpoint;
    return endpoint == ApiEndpoint::ChatCompletions ? ApiEndpoint::Messages : ApiEndpoint::ChatCompletions;
}

std::optional<json> translateRequest(const json& body, ApiEndpoint from, const std::string& model,
                                     std::string& whyNot) {
    if (from == ApiEndpoint::ChatCompletions) return anthropicFromOpenAi(body, model, whyNot);
    if (from == ApiEndpoint::Messages) return openAiFromAnthropic(body, model, whyNot);
    whyNot = std::string(endpointPath(from)) + " has no counterpart in the other API";
    return std::nullopt;
}

json translateAnswer(const json& answer, ApiEndpoint clientEndpoint) {
    if (clientEndpoint == ApiEndpoint::ChatCompletions) { // an Anthropic message
        std::string text;
        if (auto content = answer.find("content"); content != answer.end() && content->is_array())
            for (const auto& block : *content)
                if (block.is_object() && block.value("type", "") == "text" && block.contains("text") &&
                    block["text"].is_string())
                    text += block["text"].get<std::string>();
        const json usage = answer.value("usage", json::object());
        const std::string stop = answer.contains("stop_reason") && answer["stop_reason"].is_string()
                                     ? answer["stop_reason"].get<std::string>()
                                     : "end_turn";
        return {{"id", "chatcmpl-" + answer.value("id", std::string("fusebox"))},
                {"object", "chat.completion"},
                {"created", unixNow()},
                {"model", answer.value("model", std::string())},
                {"choices",
                 {{{"index", 0},
                   {"message", {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}}},
                   {"logprobs", nullptr},
                   {"finish_reason", finishFromStop(stop)}}}},
                {"usage", openAiUsage(integerField(usage, "input_tokens"), integerField(usage, "output_tokens"),
                                      integerField(usage, "cache_read_input_tokens"),
                                      integerField(usage, "cache_creation_input_tokens"))}};
    }
    // An OpenAI chat.completion, for an Anthropic client.
    std::string text;
    std::string finish = "stop";
    if (auto choices = answer.find("choices"); choices != answer.end() && choices->is_array() && !choices->empty()) {
        const json& choice = (*choices)[0];
        if (auto message = choice.find("message"); message != choice.end() && message->is_object() &&
                                                   message->contains("content") && (*message)["content"].is_string())
            text = (*message)["content"].get<std::string>();
        if (choice.contains("finish_reason") && choice["finish_reason"].is_string())
            finish = choice["finish_reason"].get<std::string>();
    }
    const json usage = answer.value("usage", json::object());
    const json details = usage.value("prompt_tokens_details", json::object());
    return {{"id", "msg_" + answer.value("id", std::string("fusebox"))},
            {"type", "message"},
            {"role", "assistant"},
            {"model", answer.value("model", std::string())},
            {"content", {{{"type", "text"}, {"text", text}}}},
            {"stop_reason", stopFromFinish(finish)},
            {"stop_sequence", nullptr},
            {"usage", anthropicUsage(integerField(usage, "prompt_tokens"), integerField(usage, "completion_tokens"),
                                     details.is_object() ? integerField(details, "cached_tokens") : 0)}};
}

StreamTranslator::StreamTranslator(ApiEndpoint clientEndpoint, bool clientAskedUsage)
    : m_clientEndpoint(clientEndpoint), m_clientAskedUsage(clientAskedUsage), m_created(unixNow()) {}

std::string StreamTranslator::translate(const SseEvent& event, const StreamEventInfo& info, const Usage& usage) {
    if (event.commentOnly) return event.raw; // keep-alive comments mean the same to both
    if (info.error) {
        // The provider's in-band error, in the client's shape (the exchange ends the stream after it).
        const bool slowDown = info.errorOutcome == Outcome::RateLimited;
        if (m_clientEndpoint == ApiEndpoint::ChatCompletions)
            return "data: " +
                   json{{"error",
                         {{"message", info.errorMessage},
                          {"type", slowDown ? "rate_limit_exceeded" : "server_error"},
                          {"param", nullptr},
                          {"code", nullptr}}}}
                       .dump() +
                   "\n\n";
        return sseEvent("error", {{"type", "error"},
                                  {"error",
                                   {{"type", slowDown ? "rate_limit_error" : "api_error"},
                                    {"message", info.errorMessage}}}});
    }
    if (m_clientEndpoint == ApiEndpoint::Messages) return fromOpenAi(event, usage);
    const json data = json::parse(event.data, nullptr, false);
    if (!data.is_object()) return {};
    return fromAnthropic(data, usage);
}

std::string StreamTranslator::openAiChunk(json delta, const json& finishReason) const {
    const json chunk = {{"id", m_id.empty() ? std::string("chatcmpl-fusebox") : m_id},
                        {"object", "chat.completion.chunk"},
                        {"created", m_created},
                        {"model", m_model},
                        {"choices",
                         {{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                           {"finish_reason", finishReason}}}}};
    return "data: " + chunk.dump() + "\n\n";
}

std::string StreamTranslator::fromAnthropic(const json& event, const Usage& usage) {
    const std::string type = event.value("type", std::string());
    if (type == "message_start") {
        const json message = event.value("message", json::object());
        m_id = "chatcmpl-" + message.value("id", std::string("fusebox"));
        m_model = message.value("model", std::string());
        return openAiChunk({{"role", "assistant"}, {"content", ""}}, nullptr);
    }
    if (type == "content_block_delta") {
        const json delta = event.value("delta", json::object());
        if (delta.value("type", std::string()) != "text_delta") return {}; // thinking, tool input: not ours
        return openAiChunk({{"content", delta.value("text", std::string())}}, nullptr);
    }
    if (type == "message_delta") {
        const json delta = event.value("delta", json::object());
        if (!delta.contains("stop_reason") || !delta["stop_reason"].is_string()) return {};
        return openAiChunk(json::object(), finishFromStop(delta["stop_reason"].get<std::string>()));
    }
    if (type == "message_stop") {
        std::string out;
        if (m_clientAskedUsage) {
            const json chunk = {{"id", m_id},
                                {"object", "chat.completion.chunk"},
                                {"created", m_created},
                                {"model", m_model},
                                {"choices", json::array()},
                                {"usage", openAiUsage(usage.inputTokens, usage.outputTokens, usage.cacheReadTokens,
                                                      usage.cacheWriteTokens)}};
            out = "data: " + chunk.dump() + "\n\n";
        }
        return out + "data: [DONE]\n\n";
    }
    return {}; // ping, content_block_start / _stop: nothing an OpenAI client expects
}

std::string StreamTranslator::anthropicOpening() {
    m_opened = true;
    const json message = {{"id", m_id.empty() ? std::string("msg_fusebox") : m_id},
                          {"type", "message"},
                          {"role", "assistant"},
                          {"model", m_model},
                          {"content", json::array()},
                          {"stop_reason", nullptr},
                          {"stop_sequence", nullptr},
                          {"usage", {{"input_tokens", 0}, {"output_tokens", 0}}}};
    return sseEvent("message_start", {{"type", "message_start"}, {"message", message}}) +
           sseEvent("content_block_start",
                    {{"type", "content_block_start"}, {"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}});
}

std::string StreamTranslator::fromOpenAi(const SseEvent& event, const Usage& usage) {
    if (event.data == "[DONE]") {
        std::string out = m_opened ? std::string() : anthropicOpening();
        out += sseEvent("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}});
        out += sseEvent("message_delta",
                        {{"type", "message_delta"},
                         {"delta", {{"stop_reason", m_stopReason}, {"stop_sequence", nullptr}}},
                         {"usage", anthropicUsage(usage.inputTokens, usage.outputTokens, usage.cacheReadTokens)}});
        return out + sseEvent("message_stop", {{"type", "message_stop"}});
    }
    const json chunk = json::parse(event.data, nullptr, false);
    if (!chunk.is_object()) return {};
    std::string out;
    if (!m_opened) {
        m_id = "msg_" + chunk.value("id", std::string("fusebox"));
        m_model = chunk.value("model", std::string());
        out = anthropicOpening();
    }
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array() || choices->empty()) return out; // the usage chunk
    const json& choice = (*choices)[0];
    if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object() && delta->contains("content") &&
                                           (*delta)["content"].is_string() && !(*delta)["content"].empty())
        out += sseEvent("content_block_delta", {{"type", "content_block_delta"},
                                                {"index", 0},
                                                {"delta", {{"type", "text_delta"}, {"text", (*delta)["content"]}}}});
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string())
        m_stopReason = stopFromFinish(choice["finish_reason"].get<std::string>());
    return out;
}

} // namespace fusebox
