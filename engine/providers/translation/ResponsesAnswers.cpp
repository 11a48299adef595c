// The pivot -> OpenAI Responses answers and streams (for a Responses client).
#include "providers/Dialect.h"
#include "providers/translation/ResponsesApi.h"

namespace fusebox::translation {

using nlohmann::json;

namespace {

json textPart(const std::string& text) {
    return {{"type", "output_text"}, {"text", text}, {"annotations", json::array()}, {"logprobs", json::array()}};
}

json refusalPart(const std::string& text) {
    return {{"type", "refusal"}, {"refusal", text}};
}

json messageItem(const std::string& id, const char* status, json content) {
    return {{"id", id}, {"type", "message"}, {"status", status}, {"role", "assistant"}, {"content", std::move(content)}};
}

json callItem(const std::string& id, const char* status, const std::string& callId, const std::string& name,
              const std::string& arguments) {
    return {{"id", id},           {"type", "function_call"}, {"status", status},
            {"arguments", arguments}, {"call_id", callId},       {"name", name}};
}

std::string itemId(const char* prefix, const std::string& base, std::size_t outputIndex) {
    return prefix + base + "_" + std::to_string(outputIndex);
}

} // namespace

json responsesUsage(const Tokens& tokens) {
    return {{"input_tokens", tokens.input},
            {"input_tokens_details", {{"cached_tokens", tokens.cacheRead}}},
            {"output_tokens", tokens.output},
            {"output_tokens_details", {{"reasoning_tokens", tokens.reasoning}}},
            {"total_tokens", tokens.input + tokens.output}};
}

const char* responseStatusOf(StopReason stop) {
    return stop == StopReason::MaxTokens || stop == StopReason::Refusal ? "incomplete" : "completed";
}

json incompleteDetailsOf(StopReason stop) {
    if (stop == StopReason::MaxTokens) return {{"reason", "max_output_tokens"}};
    if (stop == StopReason::Refusal) return {{"reason", "content_filter"}};
    return nullptr;
}

json encodeResponsesAnswer(const Answer& answer) {
    const std::string base = idPart(answer.id);
    json output = json::array();
    json parts = json::array(); // of the message item being gathered
    auto flush = [&] {
        if (parts.empty()) return;
        output.push_back(messageItem(itemId("msg_", base, output.size()), "completed", std::move(parts)));
        parts = json::array();
    };
    for (const Part& part : answer.content) {
        if (part.kind == Part::Kind::Text) {
            parts.push_back(textPart(part.text));
        } else if (part.kind == Part::Kind::Refusal) {
            parts.push_back(refusalPart(part.text));
        } else if (part.kind == Part::Kind::ToolCall) {
            flush();
            output.push_back(callItem(itemId("fc_", base, output.size()), "completed", part.call.id, part.call.name,
                                      part.call.arguments));
        }
    }
    flush();
    // The request's own settings (tools, temperature, ...) are not echoed: the answer is all a client reads.
    return {{"id", "resp_" + base},
            {"object", "response"},
            {"created_at", unixNow()},
            {"status", responseStatusOf(answer.stop)},
            {"error", nullptr},
            {"incomplete_details", incompleteDetailsOf(answer.stop)},
            {"model", answer.model},
            {"output", std::move(output)},
            {"usage", responsesUsage(answer.tokens)}};
}

std::string ResponsesStreamEncoder::event(const char* type, json data) {
    data["type"] = type;
    data["sequence_number"] = m_sequence++;
    return std::string("event: ") + type + "\ndata: " + dumpJson(data) + "\n\n";
}

json ResponsesStreamEncoder::response(const char* status) const {
    return {{"id", m_id},         {"object", "response"}, {"created_at", m_created}, {"status", status},
            {"error", nullptr},   {"incomplete_details", nullptr},                   {"model", m_model},
            {"output", m_output}, {"usage", nullptr}};
}

std::string ResponsesStreamEncoder::start() {
    if (m_started) return {};
    m_started = true;
    std::string out = event("response.created", {{"response", response("in_progress")}}); // numbered in order
    return out + event("response.in_progress", {{"response", response("in_progress")}});
}

std::string ResponsesStreamEncoder::textDelta(const std::string& text, bool refusal) {
    std::string out;
    if (m_message < 0) {
        m_message = int64_t(m_output.size());
        const json item = messageItem(itemId("msg_", m_base, m_output.size()), "in_progress", json::array());
        m_output.push_back(item);
        out += event("response.output_item.added", {{"output_index", m_message}, {"item", item}});
    }
    const json id = m_output[std::size_t(m_message)]["id"];
    if (m_partOpen && m_partIsRefusal != refusal) out += closePart();
    const int64_t contentIndex = int64_t(m_parts.size());
    const json where = {{"item_id", id}, {"output_index", m_message}, {"content_index", contentIndex}};
    if (!m_partOpen) {
        m_partOpen = true;
        m_partIsRefusal = refusal;
        m_partText.clear();
        json added = where;
        added["part"] = refusal ? refusalPart("") : textPart("");
        out += event("response.content_part.added", std::move(added));
    }
    m_partText += text;
    json delta = where;
    delta["delta"] = text;
    if (!refusal) delta["logprobs"] = json::array();
    return out + event(refusal ? "response.refusal.delta" : "response.output_text.delta", std::move(delta));
}

std::string ResponsesStreamEncoder::closePart() {
    if (!m_partOpen) return {};
    m_partOpen = false;
    const json part = m_partIsRefusal ? refusalPart(m_partText) : textPart(m_partText);
    const json where = {{"item_id", m_output[std::size_t(m_message)]["id"]},
                        {"output_index", m_message},
                        {"content_index", m_parts.size()}};
    json done = where;
    if (m_partIsRefusal) done["refusal"] = m_partText;
    else {
        done["text"] = m_partText;
        done["logprobs"] = json::array();
    }
    json partDone = where;
    partDone["part"] = part;
    m_parts.push_back(part);
    std::string out = event(m_partIsRefusal ? "response.refusal.done" : "response.output_text.done", std::move(done));
    return out + event("response.content_part.done", std::move(partDone));
}

std::string ResponsesStreamEncoder::closeMessage() {
    if (m_message < 0) return {};
    std::string out = closePart();
    json& item = m_output[std::size_t(m_message)];
    item = messageItem(item["id"].get<std::string>(), "completed", std::move(m_parts));
    m_parts = json::array();
    out += event("response.output_item.done", {{"output_index", m_message}, {"item", item}});
    m_message = -1;
    return out;
}

std::string ResponsesStreamEncoder::closeCall(int64_t key) {
    auto it = m_calls.find(key);
    if (it == m_calls.end()) return {};
    const Call call = std::move(it->second);
    m_calls.erase(it);
    const json item = callItem(call.itemId, "completed", call.callId, call.name, call.arguments);
    m_output[std::size_t(call.outputIndex)] = item;
    std::string out = event("response.function_call_arguments.done", {{"item_id", call.itemId},
                                                                      {"output_index", call.outputIndex},
                                                                      {"name", call.name},
                                                                      {"arguments", call.arguments}});
    return out + event("response.output_item.done", {{"output_index", call.outputIndex}, {"item", item}});
}

std::string ResponsesStreamEncoder::encode(const StreamPiece& piece, const Tokens& tokens) {
    using Kind = StreamPiece::Kind;
    if (piece.kind == Kind::Start && !m_started) {
        m_base = idPart(piece.id);
        m_id = "resp_" + m_base;
        m_model = piece.model;
    }
    std::string out = start();
    switch (piece.kind) {
    case Kind::Start: break;
    case Kind::Text: out += textDelta(piece.text, false); break;
    case Kind::Refusal: out += textDelta(piece.text, true); break;
    case Kind::ToolStart: {
        out += closeMessage(); // text before a call is its own item; calls may interleave, each its own index
        Call call;
        call.outputIndex = int64_t(m_output.size());
        call.itemId = itemId("fc_", m_base, m_output.size());
        call.callId = piece.callId;
        call.name = piece.name;
        const json item = callItem(call.itemId, "in_progress", call.callId, call.name, "");
        m_output.push_back(item);
        out += event("response.output_item.added", {{"output_index", call.outputIndex}, {"item", item}});
        m_calls[piece.tool] = std::move(call);
        break;
    }
    case Kind::ToolArguments: {
        auto it = m_calls.find(piece.tool);
        if (it == m_calls.end()) {
            fail("tool call " + std::to_string(piece.tool) + "'s arguments came before the call or after its end");
            return {};
        }
        it->second.arguments += piece.text;
        out += event("response.function_call_arguments.delta",
                     {{"item_id", it->second.itemId}, {"output_index", it->second.outputIndex}, {"delta", piece.text}});
        break;
    }
    case Kind::ToolEnd: out += closeCall(piece.tool); break;
    case Kind::Finish: m_stop = piece.stop; break;
    case Kind::End: {
        out += closeMessage();
        while (!m_calls.empty()) out += closeCall(m_calls.begin()->first);
        const char* status = responseStatusOf(m_stop);
        json whole = response(status);
        whole["incomplete_details"] = incompleteDetailsOf(m_stop);
        whole["usage"] = responsesUsage(tokens);
        out += event(m_stop == StopReason::MaxTokens || m_stop == StopReason::Refusal ? "response.incomplete"
                                                                                      : "response.completed",
                     {{"response", std::move(whole)}});
        break;
    }
    }
    return out;
}

std::string ResponsesStreamEncoder::error(const StreamEventInfo& info) {
    json failed = response("failed");
    failed["error"] = {{"code", info.errorOutcome == Outcome::RateLimited ? "rate_limit_exceeded" : "server_error"},
                       {"message", info.errorMessage}};
    std::string out = start();
    return out + event("response.failed", {{"response", std::move(failed)}});
}

} // namespace fusebox::translation
