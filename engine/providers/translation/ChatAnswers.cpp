// Chat Completions answers and streams <-> the pivot.
#include "providers/Dialect.h"
#include "providers/translation/ChatCompletionsApi.h"

namespace fusebox::translation {

using nlohmann::json;

StopReason stopFromFinishReason(const std::string& finishReason) {
    if (finishReason == "length") return StopReason::MaxTokens;
    if (finishReason == "tool_calls" || finishReason == "function_call") return StopReason::ToolUse;
    if (finishReason == "content_filter") return StopReason::Refusal;
    return StopReason::EndTurn; // "stop": the Chat API does not tell a stop sequence from the model's own end
}

const char* finishReasonOf(StopReason stop) {
    switch (stop) {
    case StopReason::MaxTokens: return "length";
    case StopReason::ToolUse: return "tool_calls";
    case StopReason::Refusal: return "content_filter";
    case StopReason::EndTurn:
    case StopReason::StopSequence: break;
    }
    return "stop";
}

Tokens tokensFromChatUsage(const json& usage) {
    Tokens tokens;
    tokens.input = tokenField(usage, "prompt_tokens");
    tokens.output = tokenField(usage, "completion_tokens");
    if (const json* details = JsonReader::member(usage, "prompt_tokens_details"))
        tokens.cacheRead = tokenField(*details, "cached_tokens");
    if (const json* details = JsonReader::member(usage, "completion_tokens_details"))
        tokens.reasoning = tokenField(*details, "reasoning_tokens");
    return tokens;
}

json chatUsage(const Tokens& tokens) {
    return {{"prompt_tokens", tokens.input},
            {"completion_tokens", tokens.output},
            {"total_tokens", tokens.input + tokens.output},
            {"prompt_tokens_details", {{"cached_tokens", tokens.cacheRead}}},
            {"completion_tokens_details", {{"reasoning_tokens", tokens.reasoning}}}};
}

std::optional<Answer> decodeChatAnswer(const json& answer, JsonReader& r) {
    Answer out;
    out.id = r.stringOr(answer, "id", "");
    out.model = r.stringOr(answer, "model", "");
    const json* choices = r.array(answer, "choices");
    if (!r.failed() && (!choices || choices->empty())) r.fail("", "choices", "a list of choices", choices ? *choices : json());
    if (r.failed()) return std::nullopt;
    const json& choice = (*choices)[0];
    const json* message = r.object(choice, "message", "choices[0]");
    if (!message && !r.failed()) r.fail("choices[0]", "message", "an object", json());
    if (r.failed()) return std::nullopt;
    const std::string at = "choices[0].message";
    const std::string text = r.stringOr(*message, "content", "", at);
    if (!text.empty()) out.content.push_back(Part::textPart(text));
    if (auto refusal = r.string(*message, "refusal", at); refusal && !refusal->empty()) {
        Part part;
        part.kind = Part::Kind::Refusal;
        part.text = *refusal;
        out.content.push_back(std::move(part));
    }
    if (const json* calls = r.array(*message, "tool_calls", at)) {
        for (std::size_t i = 0; i < calls->size(); ++i) {
            const std::string callAt = JsonReader::indexPath(at + ".tool_calls", i);
            const json& call = (*calls)[i];
            const json* function = r.object(call, "function", callAt);
            if (!function && !r.failed()) r.fail(callAt, "function", "an object", json());
            if (r.failed()) return std::nullopt;
            Part part;
            part.kind = Part::Kind::ToolCall;
            part.call.id = r.stringOr(call, "id", "", callAt);
            part.call.name = r.stringOr(*function, "name", "", callAt + ".function");
            part.call.arguments = r.stringOr(*function, "arguments", "", callAt + ".function");
            if (part.call.id.empty()) part.call.id = "call_" + std::to_string(i);
            out.content.push_back(std::move(part));
        }
    }
    out.stop = stopFromFinishReason(r.stringOr(choice, "finish_reason", "stop", "choices[0]"));
    if (const json* usage = r.object(answer, "usage")) out.tokens = tokensFromChatUsage(*usage);
    if (r.failed()) return std::nullopt;
    return out;
}

json encodeChatAnswer(const Answer& answer) {
    std::string text, refusal;
    json calls = json::array();
    for (const Part& part : answer.content) {
        if (part.kind == Part::Kind::Text) text += part.text;
        else if (part.kind == Part::Kind::Refusal) refusal += part.text;
        else if (part.kind == Part::Kind::ToolCall)
            calls.push_back({{"id", part.call.id},
                             {"type", "function"},
                             {"function", {{"name", part.call.name}, {"arguments", part.call.arguments}}}});
    }
    json message = {{"role", "assistant"},
                    {"content", text.empty() && !calls.empty() ? json(nullptr) : json(text)},
                    {"refusal", refusal.empty() ? json(nullptr) : json(refusal)}};
    if (!calls.empty()) message["tool_calls"] = std::move(calls);
    return {{"id", "chatcmpl-" + idPart(answer.id)},
            {"object", "chat.completion"},
            {"created", unixNow()},
            {"model", answer.model},
            {"choices",
             {{{"index", 0},
               {"message", std::move(message)},
               {"logprobs", nullptr},
               {"finish_reason", finishReasonOf(answer.stop)}}}},
            {"usage", chatUsage(answer.tokens)}};
}

void ChatStreamDecoder::decode(const SseEvent& event, JsonReader& r, std::vector<StreamPiece>& out) {
    using Kind = StreamPiece::Kind;
    if (event.data == "[DONE]") {
        out.push_back(StreamPiece::end());
        return;
    }
    // The dialect has judged the event: one that does not parse is an error, answered before this.
    const ParsedJson parsed = parseUntrusted(event.data);
    if (!parsed.ok() || !parsed.value.is_object()) return;
    const json& chunk = parsed.value;
    if (!m_started) {
        m_started = true;
        out.push_back(StreamPiece::start(r.stringOr(chunk, "id", ""), r.stringOr(chunk, "model", "")));
    }
    if (const json* usage = JsonReader::member(chunk, "usage"))
        if (const json* details = JsonReader::member(*usage, "completion_tokens_details"))
            m_reasoningTokens = tokenField(*details, "reasoning_tokens");
    const json* choices = r.array(chunk, "choices");
    if (!choices) return;
    for (std::size_t i = 0; i < choices->size(); ++i) {
        const json& choice = (*choices)[i];
        const std::string at = JsonReader::indexPath("choices", i);
        if (r.integer(choice, "index", at).value_or(0) != 0) continue; // n > 1 is never asked for
        if (const json* delta = r.object(choice, "delta", at)) {
            const std::string deltaAt = at + ".delta";
            if (auto text = r.string(*delta, "content", deltaAt); text && !text->empty())
                out.push_back(StreamPiece::words(Kind::Text, *text));
            if (auto refusal = r.string(*delta, "refusal", deltaAt); refusal && !refusal->empty())
                out.push_back(StreamPiece::words(Kind::Refusal, *refusal));
            // reasoning_content (DeepSeek, vLLM) has no counterpart a client could verify: dropped.
            const json* calls = r.array(*delta, "tool_calls", deltaAt);
            for (std::size_t j = 0; calls && j < calls->size(); ++j) {
                const json& call = (*calls)[j];
                const std::string callAt = JsonReader::indexPath(deltaAt + ".tool_calls", j);
                // Some OpenAI-compatible servers leave out the index of a lone call.
                const int64_t key = r.integer(call, "index", callAt).value_or(int64_t(j));
                const json* function = r.object(call, "function", callAt);
                const std::string name = function ? r.stringOr(*function, "name", "", callAt + ".function") : "";
                const std::string arguments =
                    function ? r.stringOr(*function, "arguments", "", callAt + ".function") : "";
                if (r.failed()) return;
                const std::string id = r.stringOr(call, "id", "", callAt);
                auto begun = m_calls.find(key);
                // Some OpenAI-compatible servers give every call of a turn the same index: a new id at an index
                // already begun is another call.
                if (begun == m_calls.end() || (!id.empty() && id != begun->second.id)) {
                    if (begun != m_calls.end()) out.push_back(StreamPiece::toolEnd(begun->second.key));
                    const int64_t pivotKey = m_nextKey++;
                    begun = m_calls.insert_or_assign(key, Call{pivotKey, id}).first;
                    out.push_back(StreamPiece::toolStart(
                        pivotKey, id.empty() ? "call_" + std::to_string(pivotKey) : id, name));
                }
                if (!arguments.empty()) out.push_back(StreamPiece::toolArguments(begun->second.key, arguments));
            }
        }
        if (auto finish = r.string(choice, "finish_reason", at); finish && !finish->empty()) {
            for (const auto& [index, begun] : m_calls) out.push_back(StreamPiece::toolEnd(begun.key));
            m_calls.clear();
            out.push_back(StreamPiece::finish(stopFromFinishReason(*finish)));
        }
    }
}

Tokens ChatStreamDecoder::tokens(const Usage& usage) const {
    // The OpenAI dialect counts prompt_tokens (cached ones included) as input.
    return {.input = usage.inputTokens,
            .cacheRead = usage.cacheReadTokens,
            .cacheWrite = usage.cacheWriteTokens,
            .output = usage.outputTokens,
            .reasoning = m_reasoningTokens};
}

std::string ChatStreamEncoder::chunk(json delta, const json& finishReason) const {
    const json chunk = {{"id", m_id},
                        {"object", "chat.completion.chunk"},
                        {"created", m_created},
                        {"model", m_model},
                        {"choices",
                         {{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
                           {"finish_reason", finishReason}}}}};
    return "data: " + dumpJson(chunk) + "\n\n";
}

std::string ChatStreamEncoder::encode(const StreamPiece& piece, const Tokens& tokens) {
    using Kind = StreamPiece::Kind;
    switch (piece.kind) {
    case Kind::Start:
        m_id = "chatcmpl-" + idPart(piece.id);
        m_model = piece.model;
        return chunk({{"role", "assistant"}, {"content", ""}}, nullptr);
    case Kind::Text: return chunk({{"content", piece.text}}, nullptr);
    case Kind::Refusal: return chunk({{"refusal", piece.text}}, nullptr);
    case Kind::ToolStart: {
        const int64_t index = int64_t(m_callIndex.size());
        m_callIndex[piece.tool] = index;
        return chunk({{"tool_calls",
                       {{{"index", index},
                         {"id", piece.callId},
                         {"type", "function"},
                         {"function", {{"name", piece.name}, {"arguments", ""}}}}}}},
                     nullptr);
    }
    case Kind::ToolArguments: {
        auto it = m_callIndex.try_emplace(piece.tool, int64_t(m_callIndex.size())).first;
        return chunk({{"tool_calls", {{{"index", it->second}, {"function", {{"arguments", piece.text}}}}}}}, nullptr);
    }
    case Kind::ToolEnd: return {};
    case Kind::Finish: return chunk(json::object(), finishReasonOf(piece.stop));
    case Kind::End: {
        std::string out;
        if (m_clientAskedUsage) {
            const json usage = {{"id", m_id},         {"object", "chat.completion.chunk"}, {"created", m_created},
                                {"model", m_model},   {"choices", json::array()},         {"usage", chatUsage(tokens)}};
            out = "data: " + dumpJson(usage) + "\n\n";
        }
        return out + "data: [DONE]\n\n";
    }
    }
    return {};
}

std::string ChatStreamEncoder::error(const StreamEventInfo& info) {
    const bool slowDown = info.errorOutcome == Outcome::RateLimited;
    return "data: " +
           dumpJson(json{{"error",
                          {{"message", info.errorMessage},
                           {"type", slowDown ? "rate_limit_exceeded" : "server_error"},
                           {"param", nullptr},
                           {"code", nullptr}}}}) +
           "\n\n";
}

} // namespace fusebox::translation
