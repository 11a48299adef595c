// Anthropic Messages requests <-> the pivot.
#include "providers/translation/MessagesApi.h"

#include <algorithm>

namespace fusebox::translation {

using nlohmann::json;

namespace {

std::optional<Image> imageBlock(const json& block, const std::string& at, Problems& p) {
    const json* source = p.reader.object(block, "source", at);
    if (!source) {
        if (!p.reader.failed()) p.reader.fail(at, "source", "an object", json());
        return std::nullopt;
    }
    const std::string sourceAt = at + ".source";
    const std::string type = p.reader.stringOr(*source, "type", "", sourceAt);
    Image image;
    if (type == "base64") {
        image.mediaType = p.reader.stringOr(*source, "media_type", "", sourceAt);
        image.data = p.reader.stringOr(*source, "data", "", sourceAt);
    } else if (type == "url") {
        image.url = p.reader.stringOr(*source, "url", "", sourceAt);
    } else {
        // "file": a reference to what Anthropic's Files API keeps.
        p.refuse("'" + sourceAt + "' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
        return std::nullopt;
    }
    if (p.reader.failed()) return std::nullopt;
    return image;
}

// A tool_result's content: text and images.
bool resultParts(const json* content, const std::string& at, Problems& p, std::vector<Part>& out) {
    if (!content) return true;
    if (content->is_string()) {
        out.push_back(Part::textPart(content->get<std::string>()));
        return true;
    }
    if (!content->is_array()) {
        p.reader.fail(at, "", "text or a list of blocks", *content);
        return false;
    }
    for (std::size_t i = 0; i < content->size(); ++i) {
        const json& block = (*content)[i];
        const std::string blockAt = JsonReader::indexPath(at, i);
        const std::string type = p.reader.stringOr(block, "type", "", blockAt);
        if (type == "text") {
            out.push_back(Part::textPart(p.reader.stringOr(block, "text", "", blockAt)));
        } else if (type == "image") {
            auto image = imageBlock(block, blockAt, p);
            if (!image) return false;
            Part part;
            part.kind = Part::Kind::Image;
            part.image = std::move(*image);
            out.push_back(std::move(part));
        } else {
            p.refuse("'" + blockAt + "' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
            return false;
        }
        if (p.reader.failed()) return false;
    }
    return true;
}

bool messageBlocks(const json& content, Role role, const std::string& at, Problems& p, std::vector<Turn>& turns) {
    if (content.is_string()) {
        appendPart(turns, role, Part::textPart(content.get<std::string>()));
        return true;
    }
    if (!content.is_array()) {
        p.reader.fail(at, "", "text or a list of blocks", content);
        return false;
    }
    for (std::size_t i = 0; i < content.size(); ++i) {
        const json& block = content[i];
        const std::string blockAt = JsonReader::indexPath(at, i);
        if (!block.is_object()) {
            p.reader.fail(blockAt, "", "an object", block);
            return false;
        }
        const std::string type = p.reader.stringOr(block, "type", "", blockAt);
        Part part;
        if (type == "text") {
            part = Part::textPart(p.reader.stringOr(block, "text", "", blockAt)); // cache_control: dropped
        } else if (type == "image" && role == Role::User) {
            auto image = imageBlock(block, blockAt, p);
            if (!image) return false;
            part.kind = Part::Kind::Image;
            part.image = std::move(*image);
        } else if (type == "tool_use" && role == Role::Assistant) {
            part.kind = Part::Kind::ToolCall;
            part.call.id = p.reader.stringOr(block, "id", "", blockAt);
            part.call.name = p.reader.stringOr(block, "name", "", blockAt);
            const json* input = p.reader.object(block, "input", blockAt);
            part.call.arguments = input ? dumpJson(*input) : "{}";
        } else if (type == "tool_result" && role == Role::User) {
            part.kind = Part::Kind::ToolResult;
            part.callId = p.reader.stringOr(block, "tool_use_id", "", blockAt);
            part.isError = p.reader.boolean(block, "is_error", blockAt).value_or(false);
            if (!resultParts(JsonReader::member(block, "content"), blockAt + ".content", p, part.result)) return false;
        } else if (type == "thinking" || type == "redacted_thinking") {
            // Signed by Anthropic for Anthropic alone: no other provider can read or verify it.
            continue;
        } else {
            p.refuse("'" + blockAt + "' of type '" + clipUtf8(type, 64) + "' has no counterpart in the other API");
            return false;
        }
        if (p.reader.failed()) return false;
        appendPart(turns, role, std::move(part));
    }
    return true;
}

} // namespace

std::optional<Request> decodeMessagesRequest(const json& body, Problems& p) {
    JsonReader& r = p.reader;
    for (const char* key : {"mcp_servers", "container"})
        if (const json* value = JsonReader::member(body, key); value && !value->empty())
            p.refuse(std::string("'") + key + "' (state or tools kept by Anthropic) has no counterpart in the other API");
    if (!p.whyNot.empty()) return std::nullopt;
    Request out;
    if (auto system = textContent(JsonReader::member(body, "system"), "system", {"text"}, p)) out.system = *system;
    const json* messages = r.array(body, "messages");
    if (!messages && !r.failed()) r.fail("", "messages", "a list of messages", json());
    if (p.any()) return std::nullopt;
    for (std::size_t i = 0; i < messages->size() && !p.any(); ++i) {
        const json& message = (*messages)[i];
        const std::string at = JsonReader::indexPath("messages", i);
        const std::string role = r.stringOr(message, "role", "", at);
        if (!message.is_object()) r.fail(at, "", "an object", message);
        if (r.failed()) break;
        if (role != "user" && role != "assistant") {
            p.refuse("'" + at + "' of role '" + clipUtf8(role, 64) + "' has no counterpart in the other API");
            break;
        }
        const json* content = JsonReader::member(message, "content");
        if (content) messageBlocks(*content, role == "user" ? Role::User : Role::Assistant, at + ".content", p, out.turns);
    }
    if (const json* tools = r.array(body, "tools")) {
        for (std::size_t i = 0; i < tools->size() && !p.any(); ++i) {
            const json& tool = (*tools)[i];
            const std::string at = JsonReader::indexPath("tools", i);
            const std::string type = r.stringOr(tool, "type", "custom", at);
            if (type != "custom") {
                // bash_..., text_editor_..., web_search_..., computer_...: tools Anthropic defines or runs itself.
                p.refuse("'" + at + "' of type '" + clipUtf8(type, 64) +
                         "' (a tool Anthropic defines) has no counterpart in the other API");
                break;
            }
            ToolDef def;
            def.name = r.stringOr(tool, "name", "", at);
            def.description = r.stringOr(tool, "description", "", at);
            if (const json* schema = r.object(tool, "input_schema", at)) def.parameters = *schema;
            if (def.name.empty() && !r.failed()) r.fail(at, "name", "a tool name", json());
            out.tools.push_back(std::move(def));
        }
    }
    if (const json* choice = r.object(body, "tool_choice")) {
        ToolChoice tc;
        const std::string type = r.stringOr(*choice, "type", "auto", "tool_choice");
        if (type == "any") tc.mode = ToolChoice::Mode::Required;
        else if (type == "none") tc.mode = ToolChoice::Mode::None;
        else if (type == "tool") {
            tc.mode = ToolChoice::Mode::Named;
            tc.name = r.stringOr(*choice, "name", "", "tool_choice");
        } else if (type != "auto" && !r.failed()) {
            r.fail("tool_choice", "type", "\"auto\", \"any\", \"tool\" or \"none\"", choice->value("type", json()));
        }
        out.toolChoice = tc;
        if (r.boolean(*choice, "disable_parallel_tool_use", "tool_choice").value_or(false))
            out.parallelToolCalls = false;
    }
    out.maxTokens = r.integer(body, "max_tokens");
    out.temperature = r.number(body, "temperature");
    out.topP = r.number(body, "top_p");
    if (const json* stop = r.array(body, "stop_sequences"))
        for (const json& s : *stop)
            if (s.is_string()) out.stop.push_back(s.get<std::string>());
    out.stream = r.boolean(body, "stream").value_or(false);
    if (const json* metadata = r.object(body, "metadata")) out.user = r.string(*metadata, "user_id", "metadata");
    // Dropped: thinking (a hint to think first; its blocks are never faked on the way back), top_k, service_tier.
    // A thinking of the wrong shape is still the request's own fault.
    if (const json* thinking = r.object(body, "thinking")) (void)r.stringOr(*thinking, "type", "", "thinking");
    if (p.any()) return std::nullopt;
    return out;
}

namespace {

json imageJson(const Image& image) {
    if (!image.url.empty()) return {{"type", "image"}, {"source", {{"type", "url"}, {"url", image.url}}}};
    return {{"type", "image"},
            {"source", {{"type", "base64"}, {"media_type", image.mediaType}, {"data", image.data}}}};
}

// Text, or a list of blocks when there is more than one text.
json blocksOrText(json blocks) {
    if (blocks.size() == 1 && blocks[0]["type"] == "text") return blocks[0]["text"];
    return blocks;
}

} // namespace

std::optional<json> encodeMessagesRequest(const Request& request, const std::string& model, Problems& p) {
    if (request.jsonFormat) {
        p.refuse("structured output ('response_format' / 'text.format') has no counterpart in the Anthropic "
                 "Messages API");
        return std::nullopt;
    }
    json messages = json::array();
    std::string lastRole;
    for (const Turn& turn : request.turns) {
        json blocks = json::array();
        for (const Part& part : turn.parts) {
            switch (part.kind) {
            case Part::Kind::Text:
            case Part::Kind::Refusal:
                if (!part.text.empty()) blocks.push_back({{"type", "text"}, {"text", part.text}}); // none may be empty
                break;
            case Part::Kind::Image: blocks.push_back(imageJson(part.image)); break;
            case Part::Kind::ToolCall: {
                auto input = argumentsObject(part.call.arguments);
                if (!input) {
                    p.refuse("the arguments of tool call '" + clipUtf8(part.call.id, 64) +
                             "' are not a JSON object, which Anthropic's tool_use input must be");
                    return std::nullopt;
                }
                blocks.push_back({{"type", "tool_use"}, {"id", part.call.id}, {"name", part.call.name}, {"input", *input}});
                break;
            }
            case Part::Kind::ToolResult: {
                json content = json::array();
                for (const Part& piece : part.result) {
                    if (piece.kind == Part::Kind::Image) content.push_back(imageJson(piece.image));
                    else if (!piece.text.empty()) content.push_back({{"type", "text"}, {"text", piece.text}});
                }
                json block = {{"type", "tool_result"}, {"tool_use_id", part.callId}, {"content", blocksOrText(content)}};
                if (part.isError) block["is_error"] = true;
                blocks.push_back(std::move(block));
                break;
            }
            }
        }
        if (blocks.empty()) continue;
        const std::string role = turn.role == Role::User ? "user" : "assistant";
        if (role == lastRole) { // one API's separate messages (tool results, then text) are one turn here
            json& previous = messages.back()["content"];
            if (previous.is_string()) previous = json::array({{{"type", "text"}, {"text", previous}}});
            for (json& block : blocks) previous.push_back(std::move(block));
        } else {
            messages.push_back({{"role", role}, {"content", blocksOrText(std::move(blocks))}});
        }
        lastRole = role;
    }
    if (messages.empty()) {
        p.refuse("there is no user or assistant message");
        return std::nullopt;
    }
    json out = {{"model", model}, {"messages", std::move(messages)}};
    if (!request.system.empty()) out["system"] = request.system;
    // Anthropic requires max_tokens; OpenAI makes it optional.
    out["max_tokens"] = request.maxTokens && *request.maxTokens > 0 ? *request.maxTokens : int64_t(4096);
    if (!request.tools.empty()) {
        json tools = json::array();
        for (const ToolDef& tool : request.tools) {
            json schema = tool.parameters.is_object() && !tool.parameters.empty()
                              ? tool.parameters
                              : json{{"type", "object"}, {"properties", json::object()}};
            json def = {{"name", tool.name}, {"input_schema", std::move(schema)}};
            if (!tool.description.empty()) def["description"] = tool.description;
            tools.push_back(std::move(def)); // `strict` has no counterpart: Anthropic follows the schema as it can
        }
        out["tools"] = std::move(tools);
        json choice = {{"type", "auto"}};
        if (request.toolChoice) {
            switch (request.toolChoice->mode) {
            case ToolChoice::Mode::Auto: break;
            case ToolChoice::Mode::None: choice = {{"type", "none"}}; break;
            case ToolChoice::Mode::Required: choice = {{"type", "any"}}; break;
            case ToolChoice::Mode::Named: choice = {{"type", "tool"}, {"name", request.toolChoice->name}}; break;
            }
        }
        if (request.parallelToolCalls == false && choice["type"] != "none") choice["disable_parallel_tool_use"] = true;
        if (request.toolChoice || choice.contains("disable_parallel_tool_use")) out["tool_choice"] = std::move(choice);
    }
    if (request.temperature) out["temperature"] = std::min(*request.temperature, 1.0); // OpenAI's range goes to 2
    if (request.topP) out["top_p"] = *request.topP;
    if (!request.stop.empty()) out["stop_sequences"] = request.stop;
    if (request.stream) out["stream"] = true;
    if (request.user) out["metadata"] = {{"user_id", *request.user}};
    return out;
}

} // namespace fusebox::translation
