// Anthropic Messages answers and streams <-> the pivot.
#include "providers/Dialect.h"
#include "providers/translation/MessagesApi.h"

#include <algorithm>

namespace fusebox::translation {

using nlohmann::json;

StopReason stopFromStopReason(const std::string& stopReason) {
    if (stopReason == "max_tokens" || stopReason == "model_context_window_exceeded") return StopReason::MaxTokens;
    if (stopReason == "stop_sequence") return StopReason::StopSequence;
    if (stopReason == "tool_use") return StopReason::ToolUse;
    if (stopReason == "refusal") return StopReason::Refusal;
    return StopReason::EndTurn; // end_turn, pause_turn
}

const char* stopReasonOf(StopReason stop) {
    switch (stop) {
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::StopSequence: return "stop_sequence";
    case StopReason::ToolUse: return "tool_use";
    case StopReason::Refusal: return "refusal";
    case StopReason::EndTurn: break;
    }
    return "end_turn";
}

Tokens tokensFromMessagesUsage(const json& usage) {
    Tokens tokens;
    tokens.cacheRead = tokenField(usage, "cache_read_input_tokens");
    tokens.cacheWrite = tokenField(usage, "cache_creation_input_tokens");
    tokens.input = tokenField(usage, "input_tokens") + tokens.cacheRead + tokens.cacheWrite;
    tokens.output = tokenField(usage, "output_tokens");
    return tokens;
}

json messagesUsage(const Tokens& tokens) {
    return {{"input_tokens", std::max<int64_t>(0, tokens.input - tokens.cacheRead - tokens.cacheWrite)},
            {"cache_creation_input_tokens", tokens.cacheWrite},
            {"cache_read_input_tokens", tokens.cacheRead},
            {"output_tokens", tokens.output}};
}

std::optional<Answer> decodeMessagesAnswer(const json& answer, JsonReader& r) {
    Answer out;
    out.id = r.stringOr(answer, "id", "");
    out.model = r.stringOr(answer, "model", "");
    const json* content = r.array(answer, "content");
    if (!content && !r.failed()) r.fail("", "content", "a list of blocks", json());
    if (r.failed()) return std::nullopt;
    for (std::size_t i = 0; i < content->size(); ++i) {
        const json& block = (*content)[i];
        const std::string at = JsonReader::indexPath("content", i);
        const std::string type = r.stringOr(block, "type", "", at);
        if (type == "text") {
            out.content.push_back(Part::textPart(r.stringOr(block, "text", "", at)));
        } else if (type == "tool_use") {
            Part part;
            part.kind = Part::Kind::ToolCall;
            part.call.id = r.stringOr(block, "id", "", at);
            part.call.name = r.stringOr(block, "name", "", at);
            const json* input = r.object(block, "input", at);
            part.call.arguments = input ? dumpJson(*input) : "{}";
            out.content.push_back(std::move(part));
        }
        // thinking and redacted_thinking: Anthropic's own, never shown as text. Server tool blocks do not come:
        // requests with server tools are not translated.
        if (r.failed()) return std::nullopt;
    }
    out.stop = stopFromStopReason(r.stringOr(answer, "stop_reason", "end_turn"));
    out.stopSequence = r.stringOr(answer, "stop_sequence", "");
    if (const json* usage = r.object(answer, "usage")) out.tokens = tokensFromMessagesUsage(*usage);
    if (r.failed()) return std::nullopt;
    return out;
}

std::optional<json> encodeMessagesAnswer(const Answer& answer, std::string& error) {
    json content = json::array();
    bool refused = false;
    for (const Part& part : answer.content) {
        if (part.kind == Part::Kind::Text || part.kind == Part::Kind::Refusal) {
            refused = refused || part.kind == Part::Kind::Refusal;
            if (!part.text.empty()) content.push_back({{"type", "text"}, {"text", part.text}});
        } else if (part.kind == Part::Kind::ToolCall) {
            auto input = argumentsObject(part.call.arguments);
            if (!input) {
                error = "the arguments of tool call '" + clipUtf8(part.call.id, 64) + "' ('" + clipUtf8(part.call.name, 64) +
                        "') are not a JSON object, which an Anthropic client's tool_use input must be";
                return std::nullopt;
            }
            content.push_back({{"type", "tool_use"}, {"id", part.call.id}, {"name", part.call.name}, {"input", *input}});
        }
    }
    const StopReason stop = refused && answer.stop == StopReason::EndTurn ? StopReason::Refusal : answer.stop;
    return json{{"id", "msg_" + idPart(answer.id)},
                {"type", "message"},
                {"role", "assistant"},
                {"model", answer.model},
                {"content", std::move(content)},
                {"stop_reason", stopReasonOf(stop)},
                {"stop_sequence", answer.stopSequence.empty() ? json(nullptr) : json(answer.stopSequence)},
                {"usage", messagesUsage(answer.tokens)}};
}

void MessagesStreamDecoder::decode(const SseEvent& event, JsonReader& r, std::vector<StreamPiece>& out) {
    using Kind = StreamPiece::Kind;
    const ParsedJson parsed = parseUntrusted(event.data);
    if (!parsed.ok() || !parsed.value.is_object()) return; // the dialect's error, answered before this
    const json& data = parsed.value;
    const std::string type = r.stringOr(data, "type", event.event);
    if (type == "message_start") {
        const json* message = r.object(data, "message");
        const json& m = message ? *message : json::object();
        out.push_back(StreamPiece::start(r.stringOr(m, "id", "", "message"), r.stringOr(m, "model", "", "message")));
    } else if (type == "content_block_start") {
        const int64_t index = r.integer(data, "index").value_or(0);
        const json* block = r.object(data, "content_block");
        if (!block) return;
        const std::string blockType = r.stringOr(*block, "type", "", "content_block");
        if (blockType == "text") {
            if (auto text = r.string(*block, "text", "content_block"); text && !text->empty())
                out.push_back(StreamPiece::words(Kind::Text, *text));
        } else if (blockType == "tool_use") {
            m_toolBlocks.insert(index);
            out.push_back(StreamPiece::toolStart(index, r.stringOr(*block, "id", "", "content_block"),
                                                r.stringOr(*block, "name", "", "content_block")));
            // Anthropic starts with "input": {} and streams the JSON; some relays send it whole here instead.
            if (const json* input = r.object(*block, "input", "content_block"); input && !input->empty())
                out.push_back(StreamPiece::toolArguments(index, dumpJson(*input)));
        }
    } else if (type == "content_block_delta") {
        const int64_t index = r.integer(data, "index").value_or(0);
        const json* delta = r.object(data, "delta");
        if (!delta) return;
        const std::string deltaType = r.stringOr(*delta, "type", "", "delta");
        if (deltaType == "text_delta") {
            if (auto text = r.string(*delta, "text", "delta"); text && !text->empty())
                out.push_back(StreamPiece::words(Kind::Text, *text));
        } else if (deltaType == "input_json_delta") {
            if (auto partial = r.string(*delta, "partial_json", "delta"); partial && !partial->empty())
                out.push_back(StreamPiece::toolArguments(index, *partial));
        }
        // thinking_delta, signature_delta, citations_delta: nothing the client's API carries.
    } else if (type == "content_block_stop") {
        const int64_t index = r.integer(data, "index").value_or(0);
        if (m_toolBlocks.erase(index)) out.push_back(StreamPiece::toolEnd(index));
    } else if (type == "message_delta") {
        const json* delta = r.object(data, "delta");
        if (!delta) return;
        if (auto stop = r.string(*delta, "stop_reason", "delta"); stop && !stop->empty())
            out.push_back(
                StreamPiece::finish(stopFromStopReason(*stop), r.stringOr(*delta, "stop_sequence", "", "delta")));
    } else if (type == "message_stop") {
        out.push_back(StreamPiece::end());
    }
}

Tokens MessagesStreamDecoder::tokens(const Usage& usage) const {
    // The Anthropic dialect counts input_tokens apart from cache reads and writes.
    return {.input = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
            .cacheRead = usage.cacheReadTokens,
            .cacheWrite = usage.cacheWriteTokens,
            .output = usage.outputTokens};
}

namespace {

std::string sseEvent(const char* name, const json& data) {
    return std::string("event: ") + name + "\ndata: " + dumpJson(data) + "\n\n";
}

} // namespace

std::string MessagesStreamEncoder::start(const Tokens& tokens) {
    if (m_started) return {};
    m_started = true;
    // From an OpenAI provider the prompt's count comes only with the last chunk: this says what is known now
    // (0), and message_delta carries the whole count at the end, as Anthropic's own usage there is cumulative.
    const json message = {{"id", m_id},
                          {"type", "message"},
                          {"role", "assistant"},
                          {"model", m_model},
                          {"content", json::array()},
                          {"stop_reason", nullptr},
                          {"stop_sequence", nullptr},
                          {"usage", messagesUsage(tokens)}};
    return sseEvent("message_start", {{"type", "message_start"}, {"message", message}});
}

std::string MessagesStreamEncoder::openBlock(const json& block) {
    std::string out = closeBlock();
    m_openBlock = m_nextBlock++;
    m_openIsText = block["type"] == "text";
    return out + sseEvent("content_block_start",
                          {{"type", "content_block_start"}, {"index", m_openBlock}, {"content_block", block}});
}

std::string MessagesStreamEncoder::closeBlock() {
    if (m_openBlock < 0) return {};
    const int64_t index = m_openBlock;
    m_openBlock = -1;
    return sseEvent("content_block_stop", {{"type", "content_block_stop"}, {"index", index}});
}

std::string MessagesStreamEncoder::encode(const StreamPiece& piece, const Tokens& tokens) {
    using Kind = StreamPiece::Kind;
    if (piece.kind == Kind::Start) {
        m_id = "msg_" + idPart(piece.id);
        m_model = piece.model;
        return start(tokens);
    }
    std::string out = start(tokens);
    switch (piece.kind) {
    case Kind::Start: break;
    case Kind::Text:
    case Kind::Refusal:
        m_refused = m_refused || piece.kind == Kind::Refusal;
        if (m_openBlock < 0 || !m_openIsText) out += openBlock({{"type", "text"}, {"text", ""}});
        out += sseEvent("content_block_delta", {{"type", "content_block_delta"},
                                                {"index", m_openBlock},
                                                {"delta", {{"type", "text_delta"}, {"text", piece.text}}}});
        break;
    case Kind::ToolStart:
        out += openBlock({{"type", "tool_use"}, {"id", piece.callId}, {"name", piece.name}, {"input", json::object()}});
        m_toolBlocks[piece.tool] = m_openBlock;
        break;
    case Kind::ToolArguments: {
        auto it = m_toolBlocks.find(piece.tool);
        if (it == m_toolBlocks.end() || it->second != m_openBlock) {
            // Anthropic's blocks never interleave: a call's arguments after another call began cannot be put here.
            fail("tool call " + std::to_string(piece.tool) + "'s arguments came after another block began");
            return {};
        }
        out += sseEvent("content_block_delta",
                        {{"type", "content_block_delta"},
                         {"index", m_openBlock},
                         {"delta", {{"type", "input_json_delta"}, {"partial_json", piece.text}}}});
        break;
    }
    case Kind::ToolEnd:
        if (auto it = m_toolBlocks.find(piece.tool); it != m_toolBlocks.end() && it->second == m_openBlock)
            out += closeBlock();
        break;
    case Kind::Finish:
        m_stop = piece.stop;
        m_stopSequence = piece.stopSequence;
        break;
    case Kind::End: {
        out += closeBlock();
        const StopReason stop = m_refused && m_stop == StopReason::EndTurn ? StopReason::Refusal : m_stop;
        out += sseEvent("message_delta",
                        {{"type", "message_delta"},
                         {"delta",
                          {{"stop_reason", stopReasonOf(stop)},
                           {"stop_sequence", m_stopSequence.empty() ? json(nullptr) : json(m_stopSequence)}}},
                         {"usage", messagesUsage(tokens)}});
        out += sseEvent("message_stop", {{"type", "message_stop"}});
        break;
    }
    }
    return out;
}

std::string MessagesStreamEncoder::error(const StreamEventInfo& info) {
    const bool slowDown = info.errorOutcome == Outcome::RateLimited;
    return sseEvent("error", {{"type", "error"},
                              {"error", {{"type", slowDown ? "rate_limit_error" : "api_error"},
                                         {"message", info.errorMessage}}}});
}

} // namespace fusebox::translation
