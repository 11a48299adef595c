#include "providers/ResponsesEvents.h"

#include "core/JsonObjectView.h"
#include "core/StrictJsonScan.h"
#include "providers/OpenAiUsage.h"

#include <algorithm>
#include <limits>

namespace fusebox {

using nlohmann::json;

namespace {

bool nonEmpty(const json& object, std::string_view key) {
    const json* value = JsonReader::member(object, key);
    if (!value || value->is_null()) return false;
    if (value->is_string()) return !value->get_ref<const std::string&>().empty();
    if (value->is_array() || value->is_object()) return !value->empty();
    return true;
}

// The fast path for the event that makes up most of a stream, a named *.delta event: one SAX pass that validates
// the JSON as a full parse would and finds whether its top-level "delta" is non-empty, building no document.
class DeltaScan final : public JsonEventSink {
public:
    bool object = false;  // the top-level value is an object
    bool content = false; // its "delta" is a non-empty string, a number, or a non-empty array or object

    bool null() override { return value(false); }
    bool boolean(bool) override { return value(true); }
    bool start_object(std::size_t) override { return open(true); }
    bool start_array(std::size_t) override { return open(false); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }
    bool number() override { return value(true); }
    bool text(bool nonEmpty) override { return value(nonEmpty); }
    bool name(std::string_view name) override {
        noteInsideDelta();
        if (m_depth == 1) m_deltaNext = name == "delta";
        return true;
    }

private:
    // Anything directly inside a delta array or object makes it non-empty.
    void noteInsideDelta() {
        if (m_depth == 2 && m_inDelta) content = true;
    }
    bool value(bool nonEmptyValue) {
        noteInsideDelta();
        if (m_depth == 1 && m_deltaNext && nonEmptyValue) content = true;
        m_deltaNext = false;
        return true;
    }
    bool open(bool isObject) {
        noteInsideDelta();
        if (m_depth == 0) object = isObject;
        if (m_depth == 1) m_inDelta = m_deltaNext;
        m_deltaNext = false;
        ++m_depth;
        return true;
    }
    bool close() {
        if (--m_depth == 1) m_inDelta = false;
        return true;
    }

    int m_depth = 0;
    bool m_deltaNext = false; // the value that follows is the top-level "delta"
    bool m_inDelta = false;   // inside the top-level delta container
};

// An output item the client keeps: a message with content, reasoning with something in it, any kind of tool
// call (function_call, custom_tool_call, web_search_call, local_shell_call, ...).
bool itemCarriesOutput(const json* item) {
    if (!item || !item->is_object()) return false;
    const std::string type = stringOr(*item, "type", "");
    if (type == "message") return nonEmpty(*item, "content");
    if (type == "reasoning")
        return nonEmpty(*item, "summary") || nonEmpty(*item, "content") || nonEmpty(*item, "encrypted_content");
    return !type.empty();
}

bool outputCarriesOutput(const json& response) {
    const json* output = JsonReader::member(response, "output");
    if (!output || !output->is_array()) return false;
    return std::any_of(output->begin(), output->end(), [](const json& item) { return itemCarriesOutput(&item); });
}

// The "...done" events that repeat a part in whole: output, when no delta came before them.
bool doneEventCarriesOutput(const std::string& type, const json& data) {
    if (type == "response.output_item.done") return itemCarriesOutput(JsonReader::member(data, "item"));
    if (type == "response.output_text.done" || type == "response.reasoning_text.done" ||
        type == "response.reasoning_summary_text.done")
        return nonEmpty(data, "text");
    if (type == "response.refusal.done") return nonEmpty(data, "refusal");
    if (type == "response.function_call_arguments.done" || type == "response.custom_tool_call_input.done")
        return nonEmpty(data, "arguments") || nonEmpty(data, "input");
    if (type == "response.content_part.done" || type == "response.reasoning_summary_part.done") {
        const json* part = JsonReader::member(data, "part");
        return part && (nonEmpty(*part, "text") || nonEmpty(*part, "refusal"));
    }
    return false;
}

// What a Responses error code means for the breaker. A rate limit or quota is rate_limited (HTTP would have said
// 429); a request the model refuses to take (invalid prompt, context too long) is the client's; anything else is
// the provider's fault.
Outcome outcomeOfCode(const std::string& code) {
    if (code == "rate_limit_exceeded" || code == "insufficient_quota") return Outcome::RateLimited;
    if (code.find("invalid") != std::string::npos || code == "context_length_exceeded") return Outcome::ClientError;
    return Outcome::ServerError;
}

} // namespace

void readResponsesUsage(const json& usage, Usage& out) {
    if (usage.is_object()) readOpenAiUsage(JsonObjectView(usage), kResponsesUsageNames, out);
}

StreamEventInfo inspectResponsesEvent(const SseEvent& event, Usage& usage) {
    StreamEventInfo info;
    if (event.commentOnly) return info;
    if (event.event.ends_with(".delta")) {
        // The quick pass first (core/StrictJsonScan.h); what it is unsure of, nlohmann's SAX parser.
        DeltaScan scan;
        const bool valid = readJsonEvents(event.data, scan);
        if (valid && scan.object) {
            info.content = scan.content;
            return info;
        }
        // Not valid JSON or not an object: the full parse below says why.
    }
    if (event.data == "[DONE]") { // not OpenAI's, but some compatible servers end every stream so
        info.terminal = true;
        return info;
    }
    const ParsedJson parsed = parseUntrusted(event.data);
    const json& data = parsed.value;
    if (!parsed.ok() || !data.is_object()) {
        info.error = true;
        info.errorOutcome = Outcome::BadResponse;
        info.errorMessage = "unparseable stream event (" + (parsed.ok() ? std::string("not an object") : parsed.error) + ")";
        return info;
    }
    // The data's own type is the event's name; the SSE name stands in for servers that send only that.
    const std::string type = stringOr(data, "type", event.event);
    if (type.ends_with(".delta")) {
        info.content = nonEmpty(data, "delta");
        return info;
    }
    if (type == "response.completed" || type == "response.incomplete") {
        info.terminal = true;
        info.final = true;
        if (const json* response = JsonReader::member(data, "response"); response && response->is_object()) {
            if (const json* u = JsonReader::member(*response, "usage")) readResponsesUsage(*u, usage);
            info.content = outputCarriesOutput(*response);
        }
        return info;
    }
    if (type == "response.failed" || type == "error") {
        info.error = true;
        // response.failed: {"response": {"error": {"code", "message"}}}; error: the fields at the top, or (as the
        // live API sends them) inside "error". Anything may stand there.
        const json* response = JsonReader::member(data, "response");
        if (response && response->is_object())
            if (const json* u = JsonReader::member(*response, "usage")) readResponsesUsage(*u, usage);
        const json* error = type == "error" ? &data : response ? JsonReader::member(*response, "error") : nullptr;
        if (error && !JsonReader::member(*error, "message")) {
            if (const json* nested = JsonReader::member(*error, "error"); nested && nested->is_object()) error = nested;
        }
        const std::string code = error ? stringOr(*error, "code", "") : std::string();
        info.errorOutcome = outcomeOfCode(code);
        std::string message = error ? stringOr(*error, "message", "") : std::string();
        if (message.empty()) message = type == "error" ? "error event" : "the response failed";
        info.errorMessage = code.empty() ? message : code + ": " + message;
        return info;
    }
    if (type == "response.image_generation_call.partial_image") {
        info.content = nonEmpty(data, "partial_image_b64");
        return info;
    }
    info.content = doneEventCarriesOutput(type, data);
    return info;
}

std::string responsesStreamErrorEvent(const std::string& code, const std::string& message, int64_t sequenceNumber) {
    const json error = {{"type", "server_error"}, {"code", code}, {"message", message}, {"param", nullptr}};
    const json data = {{"type", "error"},   {"code", code},  {"message", message}, {"param", nullptr},
                       {"sequence_number", std::max<int64_t>(0, sequenceNumber)}, {"error", error}};
    return "event: error\ndata: " + dumpJson(data) + "\n\n";
}

int64_t lastSequenceNumber(std::string_view sseBytes) {
    constexpr std::string_view kKey = "\"sequence_number\":";
    const std::size_t at = sseBytes.rfind(kKey);
    if (at == std::string_view::npos) return -1;
    std::size_t i = at + kKey.size();
    while (i < sseBytes.size() && sseBytes[i] == ' ') ++i;
    int64_t value = 0;
    bool digits = false;
    for (; i < sseBytes.size() && sseBytes[i] >= '0' && sseBytes[i] <= '9'; ++i) {
        if (value > (std::numeric_limits<int64_t>::max() - 9) / 10) return -1;
        value = value * 10 + (sseBytes[i] - '0');
        digits = true;
    }
    return digits ? value : -1;
}

} // namespace fusebox
