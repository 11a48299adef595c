// Chat Completions requests <-> the pivot.
#include "providers/translation/ChatCompletionsApi.h"

namespace fusebox::translation {

using nlohmann::json;

namespace {

bool present(const json& body, const char* key) {
    const json* value = JsonReader::member(body, key);
    if (!value) return false;
    if (value->is_boolean()) return value->get<bool>();
    if (value->is_array() || value->is_object() || value->is_string()) return !value->empty();
    return true;
}

// A user message's parts: text and images.
bool userParts(const json& content, const std::string& at, Problems& p, std::vector<Turn>& turns) {
    if (content.is_string()) {
        appendPart(turns, Role::User, Part::textPart(content.get<std::string>()));
        return true;
    }
    if (!content.is_array()) {
        p.reader.fail(at, "", "text or a list of parts", content);
        return false;
    }
    for (std::size_t i = 0; i < content.size(); ++i) {
        const json& part = content[i];
        const std::string partAt = JsonReader::indexPath(at, i);
        const std::string type = p.reader.stringOr(part, "type", "", partAt);
        if (!part.is_object()) p.reader.fail(partAt, "", "an object", part);
        if (p.reader.failed()) return false;
        if (type == "text") {
            auto text = p.reader.string(part, "text", partAt);
            if (!text) {
                if (!p.reader.failed()) p.reader.fail(partAt, "text", "a string", json());
                return false;
            }
            appendPart(turns, Role::User, Part::textPart(*text));
        } else if (type == "image_url") {
            const json* image = p.reader.object(part, "image_url", partAt);
            auto url = image ? p.reader.string(*image, "url", partAt + ".image_url") : std::nullopt;
            if (!url) {
                if (!p.reader.failed()) p.reader.fail(partAt + ".image_url", "url", "a string", json());
                return false;
            }
            Part picture;
            picture.kind = Part::Kind::Image;
            picture.image = imageFromUrl(*url); // `detail` is a hint Anthropic has no counterpart for
            appendPart(turns, Role::User, std::move(picture));
        } else {
            p.refuse("'" + partAt + "' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
            return false;
        }
    }
    return true;
}

bool assistantTurn(const json& message, const std::string& at, Problems& p, std::vector<Turn>& turns) {
    Turn turn{Role::Assistant, {}};
    // Its words: a string, or text and refusal parts; or, with no content, a refusal of its own.
    std::string text;
    const json* content = JsonReader::member(message, "content");
    const std::string contentAt = JsonReader::path(at, "content");
    if (content && content->is_string()) {
        text = content->get<std::string>();
    } else if (content && content->is_array()) {
        for (std::size_t i = 0; i < content->size(); ++i) {
            const json& part = (*content)[i];
            const std::string partAt = JsonReader::indexPath(contentAt, i);
            const std::string type = p.reader.stringOr(part, "type", "", partAt);
            if (type != "text" && type != "refusal") {
                if (!p.reader.failed())
                    p.refuse("'" + partAt + "' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
                return false;
            }
            text += p.reader.stringOr(part, type, "", partAt);
        }
    } else if (content) {
        p.reader.fail(contentAt, "", "text or a list of parts", *content);
    }
    if (text.empty()) text = p.reader.stringOr(message, "refusal", "", at);
    if (p.reader.failed()) return false;
    if (!text.empty()) turn.parts.push_back(Part::textPart(text));
    if (const json* calls = p.reader.array(message, "tool_calls", at)) {
        for (std::size_t i = 0; i < calls->size(); ++i) {
            const json& call = (*calls)[i];
            const std::string callAt = JsonReader::indexPath(JsonReader::path(at, "tool_calls"), i);
            const std::string type = p.reader.stringOr(call, "type", "function", callAt);
            if (type != "function") {
                p.refuse("'" + callAt + "' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
                return false;
            }
            const json* function = p.reader.object(call, "function", callAt);
            Part part;
            part.kind = Part::Kind::ToolCall;
            part.call.id = p.reader.stringOr(call, "id", "", callAt);
            if (function) {
                part.call.name = p.reader.stringOr(*function, "name", "", callAt + ".function");
                part.call.arguments = p.reader.stringOr(*function, "arguments", "", callAt + ".function");
            }
            if (p.reader.failed()) return false;
            if (!function || part.call.name.empty() || part.call.id.empty()) {
                p.reader.fail(callAt, "", "a call with an id and a function name", call);
                return false;
            }
            turn.parts.push_back(std::move(part));
        }
    }
    if (p.reader.failed()) return false;
    for (Part& part : turn.parts) appendPart(turns, Role::Assistant, std::move(part));
    return true;
}

std::optional<ToolChoice> toolChoice(const json& choice, Problems& p) {
    ToolChoice out;
    if (choice.is_string()) {
        const std::string& mode = choice.get_ref<const std::string&>();
        if (mode == "auto") return out;
        if (mode == "none") out.mode = ToolChoice::Mode::None;
        else if (mode == "required") out.mode = ToolChoice::Mode::Required;
        else p.reader.fail("", "tool_choice", "\"none\", \"auto\", \"required\" or a named function", choice);
        return out;
    }
    const std::string type = p.reader.stringOr(choice, "type", "", "tool_choice");
    if (type != "function") {
        p.refuse("'tool_choice' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
        return std::nullopt;
    }
    const json* function = p.reader.object(choice, "function", "tool_choice");
    out.mode = ToolChoice::Mode::Named;
    out.name = function ? p.reader.stringOr(*function, "name", "", "tool_choice.function") : std::string();
    if (out.name.empty() && !p.reader.failed()) p.reader.fail("tool_choice", "function", "a named function", choice);
    return out;
}

} // namespace

std::optional<Request> decodeChatRequest(const json& body, Problems& p) {
    JsonReader& r = p.reader;
    for (const char* key : {"functions", "function_call"})
        if (present(body, key)) p.refuse(std::string("'") + key + "' (legacy function calling) has no counterpart in "
                                                                     "the other API: send 'tools'");
    for (const char* key : {"audio", "prediction", "logprobs", "top_logprobs", "web_search_options"})
        if (present(body, key)) p.refuse(std::string("'") + key + "' has no counterpart in the other API");
    if (auto n = r.integer(body, "n"); n && *n != 1) p.refuse("'n' (several choices) has no counterpart in the other API");
    if (!p.whyNot.empty()) return std::nullopt;

    Request out;
    const json* messages = r.array(body, "messages");
    if (!messages && !r.failed()) r.fail("", "messages", "a list of messages", json());
    if (r.failed()) return std::nullopt;
    for (std::size_t i = 0; i < messages->size() && !p.any(); ++i) {
        const json& message = (*messages)[i];
        const std::string at = JsonReader::indexPath("messages", i);
        if (!message.is_object()) {
            r.fail(at, "", "an object", message);
            break;
        }
        const std::string role = r.stringOr(message, "role", "", at);
        const json* content = JsonReader::member(message, "content");
        if (role == "system" || role == "developer") {
            auto text = textContent(content, JsonReader::path(at, "content"), {"text"}, p);
            if (text && !text->empty()) out.system += (out.system.empty() ? "" : "\n\n") + *text;
        } else if (role == "user") {
            if (content) userParts(*content, JsonReader::path(at, "content"), p, out.turns);
        } else if (role == "assistant") {
            if (present(message, "function_call")) p.refuse("'" + at + ".function_call' (legacy) has no counterpart");
            else assistantTurn(message, at, p, out.turns);
        } else if (role == "tool") {
            Part result;
            result.kind = Part::Kind::ToolResult;
            result.callId = r.stringOr(message, "tool_call_id", "", at);
            auto text = textContent(content, JsonReader::path(at, "content"), {"text"}, p);
            if (result.callId.empty() && !p.any()) r.fail(at, "tool_call_id", "a call's id", message);
            if (text) result.result.push_back(Part::textPart(*text));
            if (!p.any()) appendPart(out.turns, Role::User, std::move(result));
        } else if (!r.failed()) {
            p.refuse("'" + at + "' of role '" + clipUtf8(role, 64) + "' has no counterpart in the other API");
        }
    }
    if (const json* tools = r.array(body, "tools")) {
        for (std::size_t i = 0; i < tools->size() && !p.any(); ++i) {
            const json& tool = (*tools)[i];
            const std::string at = JsonReader::indexPath("tools", i);
            const std::string type = r.stringOr(tool, "type", "function", at);
            if (type != "function") {
                p.refuse("'" + at + "' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
                break;
            }
            const json* function = r.object(tool, "function", at);
            ToolDef def;
            if (function) {
                const std::string fAt = at + ".function";
                def.name = r.stringOr(*function, "name", "", fAt);
                def.description = r.stringOr(*function, "description", "", fAt);
                if (const json* parameters = r.object(*function, "parameters", fAt)) def.parameters = *parameters;
                def.strict = r.boolean(*function, "strict", fAt);
            }
            if (def.name.empty() && !r.failed()) r.fail(at, "function", "a function with a name", tool);
            out.tools.push_back(std::move(def));
        }
    }
    if (const json* choice = JsonReader::member(body, "tool_choice"); choice && !p.any())
        out.toolChoice = toolChoice(*choice, p);
    out.parallelToolCalls = r.boolean(body, "parallel_tool_calls");
    for (const char* key : {"max_tokens", "max_completion_tokens"})
        if (auto value = r.integer(body, key); value && *value > 0) out.maxTokens = *value;
    out.temperature = r.number(body, "temperature");
    out.topP = r.number(body, "top_p");
    if (const json* stop = JsonReader::member(body, "stop")) {
        if (stop->is_string()) out.stop.push_back(stop->get<std::string>());
        else if (stop->is_array())
            for (const json& s : *stop)
                if (s.is_string()) out.stop.push_back(s.get<std::string>());
    }
    out.stream = r.boolean(body, "stream").value_or(false);
    out.user = r.string(body, "user");
    if (const json* format = r.object(body, "response_format")) {
        if (r.stringOr(*format, "type", "text", "response_format") != "text") out.jsonFormat = *format;
    }
    // Dropped, as hints the other API lacks: reasoning_effort, seed, penalties, logit_bias, service_tier, store,
    // metadata, prompt_cache_key, safety_identifier, verbosity (stream_options is the exchange's).
    if (p.any()) return std::nullopt;
    return out;
}

namespace {

json textOrParts(const std::vector<Part>& parts) {
    if (parts.size() == 1 && parts[0].kind == Part::Kind::Text) return parts[0].text;
    json out = json::array();
    for (const Part& part : parts) {
        if (part.kind == Part::Kind::Image) out.push_back({{"type", "image_url"}, {"image_url", {{"url", dataUrl(part.image)}}}});
        else out.push_back({{"type", "text"}, {"text", part.text}});
    }
    return out;
}

} // namespace

std::optional<json> encodeChatRequest(const Request& request, const std::string& model, Problems& p) {
    json messages = json::array();
    if (!request.system.empty()) messages.push_back({{"role", "system"}, {"content", request.system}});
    for (const Turn& turn : request.turns) {
        if (turn.role == Role::Assistant) {
            std::string text;
            json calls = json::array();
            for (const Part& part : turn.parts) {
                if (part.kind == Part::Kind::ToolCall) // a call without arguments: an empty object, never ""
                    calls.push_back({{"id", part.call.id},
                                     {"type", "function"},
                                     {"function", {{"name", part.call.name},
                                                   {"arguments", part.call.arguments.empty() ? "{}" : part.call.arguments}}}});
                else if (part.kind == Part::Kind::Text || part.kind == Part::Kind::Refusal)
                    text += part.text;
            }
            json message = {{"role", "assistant"}, {"content", text.empty() && !calls.empty() ? json(nullptr) : json(text)}};
            if (!calls.empty()) message["tool_calls"] = std::move(calls);
            messages.push_back(std::move(message));
            continue;
        }
        // A user turn: tool results become "tool" messages, the rest user messages, in their order.
        std::vector<Part> pending;
        auto flush = [&] {
            if (!pending.empty()) messages.push_back({{"role", "user"}, {"content", textOrParts(pending)}});
            pending.clear();
        };
        for (const Part& part : turn.parts) {
            if (part.kind != Part::Kind::ToolResult) {
                pending.push_back(part);
                continue;
            }
            flush();
            std::string text;
            for (const Part& piece : part.result) {
                if (piece.kind == Part::Kind::Image) {
                    p.refuse("an image in a tool result has no counterpart in the OpenAI Chat Completions API");
                    return std::nullopt;
                }
                text += (text.empty() ? "" : "\n") + piece.text;
            }
            // A failed call's is_error has no field here: the tool's own words say what went wrong.
            messages.push_back({{"role", "tool"}, {"tool_call_id", part.callId}, {"content", text}});
        }
        flush();
    }
    json out = {{"model", model}, {"messages", std::move(messages)}};
    if (!request.tools.empty()) {
        json tools = json::array();
        for (const ToolDef& tool : request.tools) {
            json function = {{"name", tool.name}, {"parameters", tool.parameters}};
            if (!tool.description.empty()) function["description"] = tool.description;
            if (tool.strict) function["strict"] = *tool.strict;
            tools.push_back({{"type", "function"}, {"function", std::move(function)}});
        }
        out["tools"] = std::move(tools);
        if (request.parallelToolCalls) out["parallel_tool_calls"] = *request.parallelToolCalls;
    }
    if (request.toolChoice && (!request.tools.empty() || request.toolChoice->mode == ToolChoice::Mode::None)) {
        switch (request.toolChoice->mode) {
        case ToolChoice::Mode::Auto: out["tool_choice"] = "auto"; break;
        case ToolChoice::Mode::None: out["tool_choice"] = "none"; break;
        case ToolChoice::Mode::Required: out["tool_choice"] = "required"; break;
        case ToolChoice::Mode::Named:
            out["tool_choice"] = {{"type", "function"}, {"function", {{"name", request.toolChoice->name}}}};
            break;
        }
    }
    if (request.maxTokens) out["max_tokens"] = *request.maxTokens;
    if (request.temperature) out["temperature"] = *request.temperature;
    if (request.topP) out["top_p"] = *request.topP;
    if (!request.stop.empty()) out["stop"] = request.stop;
    if (request.stream) out["stream"] = true;
    if (request.user) out["user"] = *request.user;
    if (request.jsonFormat) out["response_format"] = *request.jsonFormat;
    return out;
}

} // namespace fusebox::translation
