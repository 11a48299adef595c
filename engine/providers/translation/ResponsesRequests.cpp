// OpenAI Responses requests -> the pivot (for a Chat Completions or Messages provider).
#include "providers/translation/ResponsesApi.h"

namespace fusebox::translation {

using nlohmann::json;

namespace {

// A message item's content, or a function_call_output's output: text and images.
bool contentParts(const json& content, const std::string& at, Problems& p, std::vector<Part>& out) {
    if (content.is_string()) {
        out.push_back(Part::textPart(content.get<std::string>()));
        return true;
    }
    if (!content.is_array()) {
        p.reader.fail(at, "", "text or a list of parts", content);
        return false;
    }
    for (std::size_t i = 0; i < content.size(); ++i) {
        const json& part = content[i];
        const std::string partAt = JsonReader::indexPath(at, i);
        if (!part.is_object()) {
            p.reader.fail(partAt, "", "an object", part);
            return false;
        }
        const std::string type = p.reader.stringOr(part, "type", "", partAt);
        if (type == "input_text" || type == "output_text") {
            out.push_back(Part::textPart(p.reader.stringOr(part, "text", "", partAt))); // annotations: dropped
        } else if (type == "refusal") {
            out.push_back(Part::textPart(p.reader.stringOr(part, "refusal", "", partAt)));
        } else if (type == "input_image") {
            if (JsonReader::member(part, "file_id")) {
                p.refuse("'" + partAt + ".file_id' refers to a file kept by OpenAI: it cannot cross to another API");
                return false;
            }
            const std::string url = p.reader.stringOr(part, "image_url", "", partAt);
            if (url.empty() && !p.reader.failed()) p.reader.fail(partAt, "image_url", "a URL", json());
            Part picture;
            picture.kind = Part::Kind::Image;
            picture.image = imageFromUrl(url); // `detail` is a hint the others lack
            out.push_back(std::move(picture));
        } else {
            p.refuse("'" + partAt + "' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
            return false;
        }
        if (p.reader.failed()) return false;
    }
    return true;
}

void inputItem(const json& item, const std::string& at, Problems& p, Request& out) {
    JsonReader& r = p.reader;
    if (!item.is_object()) {
        r.fail(at, "", "an object", item);
        return;
    }
    const std::string type = r.stringOr(item, "type", "message", at); // EasyInputMessage has no type
    if (type == "message") {
        const std::string role = r.stringOr(item, "role", "", at);
        const json* content = JsonReader::member(item, "content");
        std::vector<Part> parts;
        if (content && !contentParts(*content, at + ".content", p, parts)) return;
        if (role == "system" || role == "developer") {
            for (const Part& part : parts) {
                if (part.kind != Part::Kind::Text) {
                    p.refuse("'" + at + "' holds an image, which a system prompt cannot carry in the other API");
                    return;
                }
                if (!part.text.empty()) out.system += (out.system.empty() ? "" : "\n\n") + part.text;
            }
        } else if (role == "user" || role == "assistant") {
            const Role into = role == "user" ? Role::User : Role::Assistant;
            for (Part& part : parts) appendPart(out.turns, into, std::move(part));
        } else if (!r.failed()) {
            p.refuse("'" + at + "' of role '" + clipUtf8(role, 64) + "' has no counterpart in the other API");
        }
    } else if (type == "function_call") {
        Part part;
        part.kind = Part::Kind::ToolCall;
        part.call.id = r.stringOr(item, "call_id", "", at);
        part.call.name = r.stringOr(item, "name", "", at);
        part.call.arguments = r.stringOr(item, "arguments", "", at);
        if ((part.call.id.empty() || part.call.name.empty()) && !r.failed())
            r.fail(at, "", "a function_call with a call_id and a name", item);
        appendPart(out.turns, Role::Assistant, std::move(part));
    } else if (type == "function_call_output") {
        Part part;
        part.kind = Part::Kind::ToolResult;
        part.callId = r.stringOr(item, "call_id", "", at);
        if (part.callId.empty() && !r.failed()) r.fail(at, "call_id", "a call's id", json());
        if (const json* output = JsonReader::member(item, "output"))
            if (!contentParts(*output, at + ".output", p, part.result)) return;
        appendPart(out.turns, Role::User, std::move(part));
    } else if (type == "reasoning") {
        // The provider's own reasoning (a summary, and encrypted content only it can read): another provider can
        // neither read nor verify it, and the answer stands without it. Dropped.
    } else if (type == "item_reference") {
        p.refuse("'" + at + "' (an item_reference) refers to an item kept by OpenAI: it cannot cross to another API");
    } else {
        // custom_tool_call(_output), local_shell_call(_output), web_search_call, file_search_call, computer_call,
        // code_interpreter_call, image_generation_call, mcp_*: tools the other API has no counterpart for.
        p.refuse("'" + at + "' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
    }
}

void tool(const json& def, const std::string& at, Problems& p, Request& out) {
    const std::string type = p.reader.stringOr(def, "type", "", at);
    if (type == "custom") {
        // A freeform tool's calls carry free text, not JSON arguments: a client would get a function call back
        // where it expects a custom_tool_call.
        p.refuse("'" + at + "' ('" + clipUtf8(p.reader.stringOr(def, "name", "", at), 64) +
                 "', a custom freeform tool) has no counterpart in the other API");
        return;
    }
    if (type != "function") {
        // web_search, file_search, code_interpreter, computer_use_preview, image_generation, mcp, local_shell.
        p.refuse("'" + at + "' of type '" + clipUtf8(type, 64) +
                 "' (a tool OpenAI runs or defines) has no counterpart in the other API");
        return;
    }
    ToolDef tool;
    tool.name = p.reader.stringOr(def, "name", "", at);
    tool.description = p.reader.stringOr(def, "description", "", at);
    if (const json* parameters = p.reader.object(def, "parameters", at)) tool.parameters = *parameters;
    tool.strict = p.reader.boolean(def, "strict", at);
    if (tool.name.empty() && !p.reader.failed()) p.reader.fail(at, "name", "a function name", json());
    out.tools.push_back(std::move(tool));
}

void toolChoice(const json& choice, Problems& p, Request& out) {
    ToolChoice tc;
    if (choice.is_string()) {
        const std::string& mode = choice.get_ref<const std::string&>();
        if (mode == "none") tc.mode = ToolChoice::Mode::None;
        else if (mode == "required") tc.mode = ToolChoice::Mode::Required;
        else if (mode != "auto") p.reader.fail("", "tool_choice", "\"none\", \"auto\", \"required\" or a function", choice);
        out.toolChoice = tc;
        return;
    }
    const std::string type = p.reader.stringOr(choice, "type", "", "tool_choice");
    if (type != "function") {
        p.refuse("'tool_choice' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
        return;
    }
    tc.mode = ToolChoice::Mode::Named;
    tc.name = p.reader.stringOr(choice, "name", "", "tool_choice");
    out.toolChoice = tc;
}

} // namespace

std::optional<Request> decodeResponsesRequest(const json& body, Problems& p) {
    JsonReader& r = p.reader;
    // State the provider keeps: another provider has never seen it.
    if (const json* previous = JsonReader::member(body, "previous_response_id"); previous && !previous->empty())
        p.refuse("'previous_response_id' refers to a conversation kept by OpenAI: it cannot cross to another API");
    if (const json* conversation = JsonReader::member(body, "conversation"); conversation && !conversation->empty())
        p.refuse("'conversation' refers to a conversation kept by OpenAI: it cannot cross to another API");
    if (JsonReader::member(body, "prompt"))
        p.refuse("'prompt' refers to a prompt template kept by OpenAI: it cannot cross to another API");
    if (r.boolean(body, "background").value_or(false))
        p.refuse("'background' (a response OpenAI runs and keeps) has no counterpart in the other API");
    if (JsonReader::member(body, "top_logprobs")) p.refuse("'top_logprobs' has no counterpart in the other API");
    if (p.any()) return std::nullopt;

    Request out;
    out.system = r.stringOr(body, "instructions", "");
    const json* input = JsonReader::member(body, "input");
    if (!input) r.fail("", "input", "text or a list of items", json());
    else if (input->is_string()) out.turns.push_back({Role::User, {Part::textPart(input->get<std::string>())}});
    else if (!input->is_array()) r.fail("", "input", "text or a list of items", *input);
    else
        for (std::size_t i = 0; i < input->size() && !p.any(); ++i)
            inputItem((*input)[i], JsonReader::indexPath("input", i), p, out);
    if (const json* tools = r.array(body, "tools"))
        for (std::size_t i = 0; i < tools->size() && !p.any(); ++i)
            tool((*tools)[i], JsonReader::indexPath("tools", i), p, out);
    if (const json* choice = JsonReader::member(body, "tool_choice"); choice && !p.any()) toolChoice(*choice, p, out);
    out.parallelToolCalls = r.boolean(body, "parallel_tool_calls");
    if (auto maxTokens = r.integer(body, "max_output_tokens"); maxTokens && *maxTokens > 0) out.maxTokens = maxTokens;
    out.temperature = r.number(body, "temperature");
    out.topP = r.number(body, "top_p");
    out.stream = r.boolean(body, "stream").value_or(false);
    out.user = r.string(body, "user");
    if (const json* text = r.object(body, "text"))
        if (const json* format = r.object(*text, "format", "text")) {
            const std::string type = r.stringOr(*format, "type", "text", "text.format");
            if (type == "json_object") {
                out.jsonFormat = json{{"type", "json_object"}};
            } else if (type == "json_schema") {
                json schema = {{"name", r.stringOr(*format, "name", "output", "text.format")}};
                for (const char* key : {"schema", "strict", "description"})
                    if (const json* value = JsonReader::member(*format, key)) schema[key] = *value;
                out.jsonFormat = json{{"type", "json_schema"}, {"json_schema", std::move(schema)}};
            }
        }
    // Dropped, as hints or provider-side bookkeeping the other API lacks: reasoning (effort, summary), store,
    // include, prompt_cache_key, metadata, service_tier, truncation, text.verbosity, max_tool_calls,
    // safety_identifier, stream_options.
    if (p.any()) return std::nullopt;
    return out;
}

} // namespace fusebox::translation
