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
// newlines. Anything else (images, documents, tool results) cannot cross: nullopt, with `whyNot`. A part of the
// wrong shape is the request's own fault: recorded in `reader`.
std::optional<std::string> textOf(const json* content, const std::string& at, JsonReader& reader,
                                  std::string& whyNot) {
    if (!content) return std::string();
    if (content->is_string()) return content->get<std::string>();
    if (!content->is_array()) {
        reader.fail(at, "", "text or a list of parts", *content);
        return std::nullopt;
    }
    std::string text;
    for (std::size_t i = 0; i < content->size(); ++i) {
        const json& part = (*content)[i];
        const std::string partAt = JsonReader::indexPath(at, i);
        if (!part.is_object()) {
            reader.fail(partAt, "", "an object", part);
            return std::nullopt;
        }
        const std::string type = reader.stringOr(part, "type", "", partAt);
        if (reader.failed()) return std::nullopt;
        auto partText = type == "text" ? reader.string(part, "text", partAt) : std::nullopt;
        if (reader.failed()) return std::nullopt;
        if (!partText) {
            whyNot = "content of type '" + (type.empty() ? std::string("unknown") : clipUtf8(type, 64)) +
                     "' has no counterpart in the other API";
            return std::nullopt;
        }
        if (!text.empty()) text += '\n';
        text += *partText;
    }
    return text;
}

// The role of a message ("" when it has none), or nullopt when the message is not an object or its role is not a
// string (recorded in `reader`: the request is malformed).
std::optional<std::string> roleOf(const json& message, const std::string& at, JsonReader& reader) {
    if (!message.is_object()) {
        reader.fail(at, "", "an object", message);
        return std::nullopt;
    }
    std::string role = reader.stringOr(message, "role", "", at);
    if (reader.failed()) return std::nullopt;
    return role;
}

int64_t unixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<json> anthropicFromOpenAi(const json& body, const std::string& model, JsonReader& reader,
                                        std::string& whyNot) {
    for (const char* key : {"tools", "functions", "function_call", "logprobs", "top_logprobs", "audio", "prediction"})
        if (present(body, key)) {
            whyNot = std::string("'") + key + "' has no counterpart in the Anthropic Messages API";
            return std::nullopt;
        }
    if (const json* choice = JsonReader::member(body, "tool_choice"); choice && *choice != "none") {
        whyNot = "'tool_choice' has no counterpart without tools";
        return std::nullopt;
    }
    if (auto n = reader.number(body, "n"); n && *n != 1) {
        whyNot = "'n' (several choices) has no counterpart in the Anthropic Messages API";
        return std::nullopt;
    }
    if (const json* format = reader.object(body, "response_format")) {
        if (reader.stringOr(*format, "type", "text", "response_format") != "text" && !reader.failed()) {
            whyNot = "'response_format' (structured output) has no counterpart in the Anthropic Messages API";
            return std::nullopt;
        }
    }
    const json* messages = reader.array(body, "messages");
    if (reader.failed()) return std::nullopt;
    if (!messages) {
        whyNot = "'messages' is not a list";
        return std::nullopt;
    }
    std::string system;
    json turns = json::array();
    for (std::size_t i = 0; i < messages->size(); ++i) {
        const json& message = (*messages)[i];
        const std::string at = JsonReader::indexPath("messages", i);
        const auto roleOrNone = roleOf(message, at, reader);
        if (!roleOrNone) return std::nullopt;
        const std::string& role = *roleOrNone;
        if (present(message, "tool_calls") || present(message, "function_call")) {
            whyNot = "tool calls have no counterpart here";
            return std::nullopt;
        }
        auto text = textOf(JsonReader::member(message, "content"), JsonReader::path(at, "content"), reader, whyNot);
        if (!text) return std::nullopt;
        if (role == "system" || role == "developer") {
            if (!system.empty() && !text->empty()) system += "\n\n";
            system += *text;
        } else if (role == "user" || role == "assistant") {
            turns.push_back({{"role", role}, {"content", *text}});
        } else {
            whyNot = "messages of role '" + clipUtf8(role, 64) + "' have no counterpart in the Anthropic Messages API";
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
        if (auto value = reader.integer(body, key); value && *value > 0) maxTokens = *value;
    out["max_tokens"] = maxTokens;
    if (auto t = reader.number(body, "temperature")) out["temperature"] = std::min(*t, 1.0); // OpenAI goes to 2
    if (auto p = reader.number(body, "top_p")) out["top_p"] = *p;
    if (const json* stop = JsonReader::member(body, "stop")) {
        if (stop->is_string()) out["stop_sequences"] = json::array({*stop});
        else if (stop->is_array() && !stop->empty()) out["stop_sequences"] = *stop;
    }
    if (auto stream = reader.boolean(body, "stream")) out["stream"] = *stream;
    if (auto user = reader.string(body, "user")) out["metadata"] = {{"user_id", *user}};
    if (reader.failed()) return std::nullopt;
    return out;
}

std::optional<json> openAiFromAnthropic(const json& body, const std::string& model, JsonReader& reader,
                                        std::string& whyNot) {
    for (const char* key : {"tools", "tool_choice", "mcp_servers", "container"})
        if (present(body, key)) {
            whyNot = std::string("'") + key + "' has no counterpart in the OpenAI Chat Completions API";
            return std::nullopt;
        }
    if (const json* thinking = reader.object(body, "thinking");
        thinking && reader.stringOr(*thinking, "type", "", "thinking") == "enabled") {
        whyNot = "extended thinking has no counterpart in the OpenAI Chat Completions API";
        return std::nullopt;
    }
    const json* messages = reader.array(body, "messages");
    if (reader.failed()) return std::nullopt;
    if (!messages || messages->empty()) {
        whyNot = "'messages' is not a non-empty list";
        return std::nullopt;
    }
    json turns = json::array();
    if (const json* systemField = JsonReader::member(body, "system")) {
        auto system = textOf(systemField, "system", reader, whyNot);
        if (!system) return std::nullopt;
        if (!system->empty()) turns.push_back({{"role", "system"}, {"content", *system}});
    }
    for (std::size_t i = 0; i < messages->size(); ++i) {
        const json& message = (*messages)[i];
        const std::string at = JsonReader::indexPath("messages", i);
        const auto roleOrNone = roleOf(message, at, reader);
        if (!roleOrNone) return std::nullopt;
        const std::string& role = *roleOrNone;
        if (role != "user" && role != "assistant") {
            whyNot = "messages of role '" + clipUtf8(role, 64) +
                     "' have no counterpart in the OpenAI Chat Completions API";
            return std::nullopt;
        }
        auto text = textOf(JsonReader::member(message, "content"), JsonReader::path(at, "content"), reader, whyNot);
        if (!text) return std::nullopt;
        turns.push_back({{"role", role}, {"content", *text}});
    }
    json out = {{"model", model}, {"messages", std::move(turns)}};
    if (auto maxTokens = reader.integer(body, "max_tokens")) out["max_tokens"] = *maxTokens;
    for (const char* key : {"temperature", "top_p"})
        if (auto value = reader.number(body, key)) out[key] = *value;
    if (const json* stop = reader.array(body, "stop_sequences"); stop && !stop->empty()) out["stop"] = *stop;
    if (auto stream = reader.boolean(body, "stream")) out["stream"] = *stream;
    if (const json* metadata = reader.object(body, "metadata"))
        if (auto user = reader.string(*metadata, "user_id", "metadata")) out["user"] = *user;
    if (reader.failed()) return std::nullopt;
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
    return std::string("event: ") + name + "\ndata: " + dumpJson(data) + "\n\n";
}

} // namespace

bool translatable(ApiEndpoint endpoint) {
    return endpoint == ApiEndpoint::ChatCompletions || endpoint == ApiEndpoint::Messages;
}

ApiEndpoint upstreamEndpoint(ApiEndpoint endpoint, const ProviderConfig& provider) {
    if (apiFamily(endpoint) == provider.kind || !translatable(endpoint)) return endpoint;
    return endpoint == ApiEndpoint::ChatCompletions ? ApiEndpoint::Messages : ApiEndpoint::ChatCompletions;
}

RequestTranslation translateRequest(const json& body, ApiEndpoint from, ApiEndpoint /*to*/,
                                   const std::string& model) {
    RequestTranslation out;
    JsonReader reader;
    if (from == ApiEndpoint::ChatCompletions) out.body = anthropicFromOpenAi(body, model, reader, out.whyNot);
    else if (from == ApiEndpoint::Messages) out.body = openAiFromAnthropic(body, model, reader, out.whyNot);
    else out.whyNot = std::string(endpointPath(from)) + " has no counterpart in the other API";
    if (reader.failed()) {
        out.body.reset();
        out.whyNot.clear();
        out.invalid = reader.error();
    }
    return out;
}

namespace {

// An Anthropic message, for an OpenAI client.
json chatCompletionFromMessage(const json& answer, JsonReader& reader) {
    std::string text;
    if (const json* content = reader.array(answer, "content"))
        for (std::size_t i = 0; i < content->size(); ++i) {
            const json& block = (*content)[i];
            const std::string at = JsonReader::indexPath("content", i);
            if (reader.stringOr(block, "type", "", at) != "text") continue;
            if (auto blockText = reader.string(block, "text", at)) text += *blockText;
        }
    const json* usage = reader.object(answer, "usage");
    const json& u = usage ? *usage : json::object();
    const std::string stop = reader.stringOr(answer, "stop_reason", "end_turn");
    return {{"id", "chatcmpl-" + reader.stringOr(answer, "id", "fusebox")},
            {"object", "chat.completion"},
            {"created", unixNow()},
            {"model", reader.stringOr(answer, "model", "")},
            {"choices",
             {{{"index", 0},
               {"message", {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}}},
               {"logprobs", nullptr},
               {"finish_reason", finishFromStop(stop)}}}},
            {"usage", openAiUsage(tokenField(u, "input_tokens"), tokenField(u, "output_tokens"),
                                  tokenField(u, "cache_read_input_tokens"),
                                  tokenField(u, "cache_creation_input_tokens"))}};
}

// An OpenAI chat.completion, for an Anthropic client.
json messageFromChatCompletion(const json& answer, JsonReader& reader) {
    std::string text;
    std::string finish = "stop";
    if (const json* choices = reader.array(answer, "choices"); choices && !choices->empty()) {
        const json& choice = (*choices)[0];
        if (const json* message = reader.object(choice, "message", "choices[0]"))
            text = reader.stringOr(*message, "content", "", "choices[0].message");
        finish = reader.stringOr(choice, "finish_reason", "stop", "choices[0]");
    }
    const json* usage = reader.object(answer, "usage");
    const json& u = usage ? *usage : json::object();
    const json* details = reader.object(u, "prompt_tokens_details", "usage");
    return {{"id", "msg_" + reader.stringOr(answer, "id", "fusebox")},
            {"type", "message"},
            {"role", "assistant"},
            {"model", reader.stringOr(answer, "model", "")},
            {"content", {{{"type", "text"}, {"text", text}}}},
            {"stop_reason", stopFromFinish(finish)},
            {"stop_sequence", nullptr},
            {"usage", anthropicUsage(tokenField(u, "prompt_tokens"), tokenField(u, "completion_tokens"),
                                     details ? tokenField(*details, "cached_tokens") : 0)}};
}

} // namespace

std::optional<json> translateAnswer(const json& answer, ApiEndpoint /*providerEndpoint*/, ApiEndpoint clientEndpoint,
                                    std::string& error) {
    JsonReader reader;
    json out = clientEndpoint == ApiEndpoint::ChatCompletions ? chatCompletionFromMessage(answer, reader)
                                                              : messageFromChatCompletion(answer, reader);
    if (reader.failed()) {
        error = "answer field " + reader.error();
        return std::nullopt;
    }
    return out;
}

StreamTranslator::StreamTranslator(ApiEndpoint /*providerEndpoint*/, ApiEndpoint clientEndpoint, bool clientAskedUsage)
    : m_clientEndpoint(clientEndpoint), m_clientAskedUsage(clientAskedUsage), m_created(unixNow()) {}

std::optional<std::string> StreamTranslator::translate(const SseEvent& event, const StreamEventInfo& info,
                                                       const Usage& usage) {
    if (event.commentOnly) return event.raw; // keep-alive comments mean the same to both
    if (info.error) {
        // The provider's in-band error, in the client's shape (the exchange ends the stream after it).
        const bool slowDown = info.errorOutcome == Outcome::RateLimited;
        if (m_clientEndpoint == ApiEndpoint::ChatCompletions)
            return "data: " +
                   dumpJson(json{{"error",
                                  {{"message", info.errorMessage},
                                   {"type", slowDown ? "rate_limit_exceeded" : "server_error"},
                                   {"param", nullptr},
                                   {"code", nullptr}}}}) +
                   "\n\n";
        return sseEvent("error", {{"type", "error"},
                                  {"error",
                                   {{"type", slowDown ? "rate_limit_error" : "api_error"},
                                    {"message", info.errorMessage}}}});
    }
    std::string out;
    if (m_clientEndpoint == ApiEndpoint::Messages) {
        out = fromOpenAi(event, usage);
    } else {
        // The dialect has judged the event (an unparseable one is info.error, handled above).
        const ParsedJson data = parseUntrusted(event.data);
        if (data.ok() && data.value.is_object()) out = fromAnthropic(data.value, usage);
    }
    if (m_reader.failed()) return std::nullopt;
    return out;
}

std::string StreamTranslator::openAiChunk(json delta, const json& finishReason) const {
    const json chunk = {{"id", m_id.empty() ? std::string("chatcmpl-fusebox") : m_id},
                        {"object", "chat.completion.chunk"},
                        {"created", m_created},
                        {"model", m_model},
                        {"choices",
                         {{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                           {"finish_reason", finishReason}}}}};
    return "data: " + dumpJson(chunk) + "\n\n";
}

std::string StreamTranslator::fromAnthropic(const json& event, const Usage& usage) {
    const std::string type = m_reader.stringOr(event, "type", "");
    if (type == "message_start") {
        const json* message = m_reader.object(event, "message");
        const json& m = message ? *message : json::object();
        m_id = "chatcmpl-" + m_reader.stringOr(m, "id", "fusebox", "message");
        m_model = m_reader.stringOr(m, "model", "", "message");
        return openAiChunk({{"role", "assistant"}, {"content", ""}}, nullptr);
    }
    if (type == "content_block_delta") {
        const json* delta = m_reader.object(event, "delta");
        if (!delta || m_reader.stringOr(*delta, "type", "", "delta") != "text_delta") return {}; // thinking, tool input
        return openAiChunk({{"content", m_reader.stringOr(*delta, "text", "", "delta")}}, nullptr);
    }
    if (type == "message_delta") {
        const json* delta = m_reader.object(event, "delta");
        const auto stop = delta ? m_reader.string(*delta, "stop_reason", "delta") : std::nullopt;
        if (!stop) return {};
        return openAiChunk(json::object(), finishFromStop(*stop));
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
            out = "data: " + dumpJson(chunk) + "\n\n";
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
    const ParsedJson parsed = parseUntrusted(event.data);
    const json& chunk = parsed.value;
    if (!parsed.ok() || !chunk.is_object()) return {};
    std::string out;
    if (!m_opened) {
        m_id = "msg_" + m_reader.stringOr(chunk, "id", "fusebox");
        m_model = m_reader.stringOr(chunk, "model", "");
        out = anthropicOpening();
    }
    const json* choices = m_reader.array(chunk, "choices");
    if (!choices || choices->empty()) return out; // the usage chunk
    const json& choice = (*choices)[0];
    if (const json* delta = m_reader.object(choice, "delta", "choices[0]")) {
        const std::string content = m_reader.stringOr(*delta, "content", "", "choices[0].delta");
        if (!content.empty())
            out += sseEvent("content_block_delta", {{"type", "content_block_delta"},
                                                    {"index", 0},
                                                    {"delta", {{"type", "text_delta"}, {"text", content}}}});
    }
    if (auto finish = m_reader.string(choice, "finish_reason", "choices[0]")) m_stopReason = stopFromFinish(*finish);
    return out;
}

} // namespace fusebox
