#include "providers/OpenAiDialect.h"

#include "core/JsonObjectView.h"
#include "core/SimdObjectView.h"
#include "core/StrictJsonScan.h"
#include "providers/OpenAiUsage.h"
#include "providers/ResponsesEvents.h"

#include <array>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace fusebox {

using nlohmann::json;

namespace {

bool nonEmpty(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return false;
    if (it->is_string()) return !it->get_ref<const std::string&>().empty();
    if (it->is_array() || it->is_object()) return !it->empty();
    return true;
}

// A choice whose finish_reason is there, and neither null nor "": the last chunk of its content.
bool saysWhyItEnded(const json& choice) {
    const json* reason = JsonReader::member(choice, "finish_reason");
    return reason && !(reason->is_string() && reason->get_ref<const std::string&>().empty());
}

void readUsage(const json& usage, Usage& out) {
    if (usage.is_object()) readOpenAiUsage(JsonObjectView(usage), kChatUsageNames, out);
}

// OpenAI error codes that mean "slow down" rather than "broken". `error` may be anything: some
// OpenAI-compatible servers send {"error": "text"}.
bool isRateLimitError(const json& error) {
    const std::string type = stringOr(error, "type", "");
    const std::string code = stringOr(error, "code", "");
    return type == "rate_limit_exceeded" || code == "rate_limit_exceeded" || type == "requests" || type == "tokens";
}

// The message of an "error" member, whatever its shape: {"message": "..."}, a bare string, or neither.
std::string errorText(const json& error, std::string_view fallback) {
    if (error.is_string()) return error.get_ref<const std::string&>();
    return stringOr(error, "message", fallback);
}

std::size_t skipSpace(std::string_view text, std::size_t at) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == '\r' || text[at] == '\n')) ++at;
    return at;
}

// Just past the JSON string that opens at text[at], or npos when it does not close.
std::size_t stringEnd(std::string_view text, std::size_t at) {
    for (std::size_t i = at + 1; i < text.size(); ++i) {
        if (text[i] == '\\') ++i;
        else if (text[i] == '"') return i + 1;
    }
    return std::string_view::npos;
}

// Where the top-level member `"usage": null` of the JSON object that opens at text[open] lies, with the comma that
// joins it to a neighbour, so that cutting [first, second) leaves the same object less that member. A nested
// "usage" is the provider's own business and is not looked at; nullopt when there is no such member.
std::optional<std::pair<std::size_t, std::size_t>> nullUsageMember(std::string_view text, std::size_t open) {
    std::size_t comma = std::string_view::npos; // the comma before the current top-level member
    bool atKey = true;                          // next in the top-level object: a member's name
    int depth = 1;
    for (std::size_t i = open + 1; i < text.size() && depth > 0;) {
        const char c = text[i];
        if (c == '"') {
            const std::size_t end = stringEnd(text, i);
            if (end == std::string_view::npos) return std::nullopt;
            if (depth == 1 && atKey) {
                atKey = false;
                if (text.substr(i, end - i) == "\"usage\"") {
                    std::size_t at = skipSpace(text, end);
                    if (at < text.size() && text[at] == ':') at = skipSpace(text, at + 1);
                    else return std::nullopt;
                    if (text.substr(at, 4) != "null") return std::nullopt; // the real usage, an object
                    const std::size_t past = at + 4;
                    const std::size_t next = skipSpace(text, past);
                    if (next >= text.size() || (text[next] != ',' && text[next] != '}')) return std::nullopt;
                    if (comma != std::string_view::npos) return std::pair{comma, past};      // `, "usage": null`
                    if (text[next] == ',') return std::pair{i, skipSpace(text, next + 1)}; // `"usage": null, `
                    return std::pair{i, past};                                             // its only member
                }
            }
            i = end;
            continue;
        }
        if (c == '{' || c == '[') ++depth;
        else if (c == '}' || c == ']') --depth;
        else if (c == ',' && depth == 1) {
            comma = i;
            atKey = true;
        }
        ++i;
    }
    return std::nullopt;
}

// The fast path of inspect(): one SAX pass over a chunk, building no document. It validates the JSON as the full
// parse would and finds what inspect() needs from an ordinary chunk: whether it is an object, whether it has a
// choices array (empty or not), whether a choice's delta carries content, and whether a choice has finished. It
// stops at what only the full parse handles (a top-level "error" key, a "usage" object), and inspect() then parses
// the chunk in full.
class ChunkScan final : public JsonEventSink {
public:
    bool object = false;       // the top-level value is an object
    bool choicesArray = false; // it has a "choices" array
    bool choicesEmpty = true;  // ... with no element
    bool content = false;      // a choice's delta has a non-empty content-bearing field
    bool finished = false;     // a choice has a finish_reason (neither null nor "")
    bool needsFullParse = false;

    bool null() override { return scalar(false); }
    bool boolean(bool) override { return scalar(true); }
    bool start_object(std::size_t) override { return open(true); }
    bool start_array(std::size_t) override { return open(false); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }
    bool number() override { return scalar(true); }
    bool text(bool nonEmpty) override { return scalar(nonEmpty); }
    bool name(std::string_view name) override {
        m_next = Next::Other;
        switch (m_stack.empty() ? Ctx::Other : m_stack.back()) {
        case Ctx::Top:
            if (is(name, "error")) return stop();
            if (is(name, "choices")) m_next = Next::Choices;
            else if (is(name, "usage")) m_next = Next::Usage;
            break;
        case Ctx::Choice:
            if (is(name, "delta")) m_next = Next::Delta;
            else if (is(name, "text")) m_next = Next::ContentField; // legacy completions: the choice's own text
            else if (is(name, "finish_reason")) m_next = Next::FinishReason;
            break;
        case Ctx::Delta:
            if (is(name, "content") || is(name, "tool_calls") || is(name, "function_call") || is(name, "refusal") ||
                is(name, "reasoning_content") || is(name, "audio"))
                m_next = Next::ContentField;
            break;
        default: break;
        }
        return true;
    }

private:
    // name == literal, the length compared first: every key of every chunk passes here, most of them no match.
    template <std::size_t N> static bool is(std::string_view name, const char (&literal)[N]) {
        return name.size() == N - 1 && std::memcmp(name.data(), literal, N - 1) == 0;
    }
    enum class Ctx { Top, Choices, Choice, Delta, ContentValue, Other };
    enum class Next { Other, Choices, Usage, Delta, ContentField, FinishReason };

    bool stop() {
        needsFullParse = true;
        return false;
    }
    // Something is in the container on top of the stack: an element of choices, or a non-empty content field.
    void noteElement() {
        if (m_stack.empty()) return;
        if (m_stack.back() == Ctx::Choices) choicesEmpty = false;
        if (m_stack.back() == Ctx::ContentValue) content = true;
    }
    bool scalar(bool nonEmpty) {
        noteElement();
        if (m_next == Next::ContentField && nonEmpty) content = true;
        if (m_next == Next::FinishReason && nonEmpty) finished = true;
        m_next = Next::Other;
        return true;
    }
    bool open(bool isObject) {
        Ctx ctx = Ctx::Other;
        if (m_depth == 0) {
            object = isObject;
            if (isObject) ctx = Ctx::Top;
        } else if (!m_stack.empty() && m_stack.back() == Ctx::Choices) {
            if (isObject) ctx = Ctx::Choice;
        } else if (m_next == Next::Choices) {
            choicesArray = !isObject;
            if (!isObject) ctx = Ctx::Choices;
        } else if (m_next == Next::Usage) {
            if (isObject) return stop();
        } else if (m_next == Next::Delta) {
            if (isObject) ctx = Ctx::Delta;
        } else if (m_next == Next::ContentField) {
            ctx = Ctx::ContentValue;
        } else if (m_next == Next::FinishReason) {
            finished = true; // not a string, but not null either: as the full parse judges it
        }
        noteElement();
        m_next = Next::Other;
        ++m_depth;
        m_stack.push_back(ctx);
        return true;
    }
    bool close() {
        --m_depth;
        m_stack.pop_back();
        return true;
    }

    // The contexts of the open containers. Only the first few levels can be anything but Other (a choice's
    // delta is at the fourth), so deeper ones are counted, not kept: no allocation per event.
    class CtxStack {
    public:
        bool empty() const { return m_size == 0; }
        Ctx back() const { return m_size <= m_kept.size() ? m_kept[m_size - 1] : Ctx::Other; }
        void push_back(Ctx ctx) {
            if (m_size < m_kept.size()) m_kept[m_size] = ctx;
            ++m_size;
        }
        void pop_back() { --m_size; }

    private:
        std::array<Ctx, 8> m_kept{};
        std::size_t m_size = 0;
    };
    CtxStack m_stack;
    int m_depth = 0;
    Next m_next = Next::Other;
};

} // namespace

std::string OpenAiDialect::upstreamUrl(const ProviderConfig& provider, ApiEndpoint endpoint) const {
    switch (endpoint) {
    case ApiEndpoint::Embeddings: return provider.baseUrl + "/embeddings";
    case ApiEndpoint::Responses: return provider.baseUrl + "/responses";
    case ApiEndpoint::Completions: return provider.baseUrl + "/completions";
    default: return provider.baseUrl + "/chat/completions";
    }
}

namespace {

// The client headers OpenAI-kind providers use for caching, routing and tracing: the openai-* family
// (openai-beta, openai-organization, openai-project) and x-openai-*, and the ones Codex sends with every turn
// (session_id and conversation_id key the prompt cache; originator and x-client-request-id trace it).
bool openAiPasses(std::string_view name) {
    if (name.starts_with("openai-") || name.starts_with("x-openai-")) return true;
    for (std::string_view exact : {"session_id", "session-id", "conversation_id", "originator", "x-client-request-id"})
        if (name == exact) return true;
    return false;
}

} // namespace

void OpenAiDialect::providerHeaders(const ProviderConfig& provider, const ClientHeaders& client,
                                    HeaderList& out) const {
    if (provider.hasKey()) out.emplace_back("Authorization", "Bearer " + provider.apiKey);
    for (const auto& [name, value] : client)
        if (openAiPasses(name) && !neverForwarded(name)) out.emplace_back(name, value);
}

bool OpenAiDialect::prepareBody(json& body, ApiEndpoint endpoint, bool stream) const {
    // Legacy completions take stream_options too. A Responses stream always ends with its usage.
    if ((endpoint != ApiEndpoint::ChatCompletions && endpoint != ApiEndpoint::Completions) || !stream) return false;
    // Streamed answers carry usage only when asked; we always ask, so spend is exact, and strip the extra chunk
    // again when the client did not ask itself.
    // NOTE: the exchange refuses a client's stream_options of the wrong type with a 400 before this; replacing
    // one here is only so that this can never throw.
    json& options = body["stream_options"];
    if (!options.is_object()) options = json::object();
    const json* asked = JsonReader::member(options, "include_usage");
    const bool clientAsked = asked && asked->is_boolean() && asked->get<bool>();
    options["include_usage"] = true;
    return clientAsked;
}

std::optional<std::pair<std::string, bool>> OpenAiDialect::preparedBodyText(std::string_view body,
                                                                           const json& members, ApiEndpoint endpoint,
                                                                           bool stream) const {
    if ((endpoint != ApiEndpoint::ChatCompletions && endpoint != ApiEndpoint::Completions) || !stream)
        return std::pair{std::string(body), false};
    // Only a body with no stream_options at all (not even null, which a second member would not override for
    // every reader) and at least one member (so the added one can end with a comma) is changed as text.
    if (!members.is_object() || members.contains("stream_options") || members.empty()) return std::nullopt;
    const std::size_t open = skipSpace(body, 0);
    if (open >= body.size() || body[open] != '{') return std::nullopt;
    constexpr std::string_view kAdded = "\"stream_options\":{\"include_usage\":true},";
    std::string text;
    text.reserve(body.size() + kAdded.size());
    text.append(body.substr(0, open + 1));
    text.append(kAdded);
    text.append(body.substr(open + 1));
    return std::pair{std::move(text), false};
}

Usage OpenAiDialect::usageFromMember(const SimdObjectView& member, ApiEndpoint endpoint) const {
    Usage usage;
    readOpenAiUsage(member, endpoint == ApiEndpoint::Responses ? kResponsesUsageNames : kChatUsageNames, usage);
    return usage;
}

Usage OpenAiDialect::usageFromBody(const json& body, ApiEndpoint endpoint) const {
    Usage usage;
    if (const json* u = JsonReader::member(body, "usage")) {
        if (endpoint == ApiEndpoint::Responses) readResponsesUsage(*u, usage);
        else readUsage(*u, usage);
    }
    return usage;
}

StreamEventInfo OpenAiDialect::inspect(const SseEvent& event, ApiEndpoint endpoint, Usage& usage) const {
    if (endpoint == ApiEndpoint::Responses) return inspectResponsesEvent(event, usage);
    StreamEventInfo info;
    if (event.commentOnly) return info;
    if (event.data == "[DONE]") {
        info.terminal = true;
        return info;
    }
    {
        // Most chunks are read by the quick pass (simdjson); what it is unsure of (invalid JSON among others), by
        // nlohmann's SAX parser.
        ChunkScan scan;
        const bool valid = readJsonEvents(event.data, scan);
        if (valid && scan.object) {
            if (!scan.choicesArray || scan.choicesEmpty) return info; // no usage object here: not usageOnly
            info.content = scan.content;
            info.final = scan.finished;
            return info;
        }
        // Not valid JSON, not an object, or something only the full parse below handles.
    }
    const ParsedJson parsed = parseUntrusted(event.data);
    const json& chunk = parsed.value;
    if (!parsed.ok() || !chunk.is_object()) {
        info.error = true;
        info.errorOutcome = Outcome::BadResponse;
        info.errorMessage = "unparseable stream event (" + (parsed.ok() ? std::string("not an object") : parsed.error) + ")";
        return info;
    }
    if (const json* error = JsonReader::member(chunk, "error")) {
        info.error = true;
        info.errorOutcome = isRateLimitError(*error) ? Outcome::RateLimited : Outcome::ServerError;
        info.errorMessage = errorText(*error, "error event");
        return info;
    }
    if (auto u = chunk.find("usage"); u != chunk.end() && u->is_object()) readUsage(*u, usage);
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array()) return info;
    if (choices->empty()) {
        info.usageOnly = chunk.contains("usage") && chunk["usage"].is_object();
        return info;
    }
    for (const auto& choice : *choices) {
        if (saysWhyItEnded(choice)) info.final = true;
        if (nonEmpty(choice, "text")) info.content = true; // legacy completions
        const json* delta = JsonReader::member(choice, "delta");
        if (!delta || !delta->is_object()) continue;
        if (nonEmpty(*delta, "content") || nonEmpty(*delta, "tool_calls") || nonEmpty(*delta, "function_call") ||
            nonEmpty(*delta, "refusal") || nonEmpty(*delta, "reasoning_content") || nonEmpty(*delta, "audio"))
            info.content = true;
    }
    return info;
}

void OpenAiDialect::dropAddedUsage(std::string& eventBytes) const {
    // Every chunk passes here. OpenAI's own spelling ends the chunk, and a valid object's last `}` is its own: a
    // look at the end suffices. Any other spelling or place costs a search, and a scan only when "usage" is there.
    constexpr std::string_view kTail = ",\"usage\":null}";
    std::string_view text = eventBytes;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (text.ends_with(kTail)) {
        eventBytes.erase(text.size() - kTail.size(), kTail.size() - 1);
        return;
    }
    if (eventBytes.find("\"usage\"") == std::string::npos) return;
    // The chunk's object: the first data line's value ("data: {...}").
    std::size_t data = eventBytes.starts_with("data:") ? 0 : eventBytes.find("\ndata:");
    if (data == std::string::npos) return;
    data += eventBytes[data] == '\n' ? 6 : 5;
    const std::size_t open = skipSpace(eventBytes, data);
    if (open >= eventBytes.size() || eventBytes[open] != '{') return;
    if (auto member = nullUsageMember(eventBytes, open))
        eventBytes.erase(member->first, member->second - member->first);
}

json OpenAiDialect::errorBody(int status, const std::string& type, const std::string& message,
                              const std::optional<std::string>& param) const {
    // OpenAI files every 4xx under invalid_request_error and says what exactly in `code` (model_not_found);
    // our 503s carry their own type and code (circuit_open, upstream_unavailable), as the contract has them.
    const bool clientError = status >= 400 && status < 500;
    json error = {{"message", message},
                  {"type", clientError ? "invalid_request_error" : type},
                  {"param", nullptr},
                  {"code", type == "invalid_request_error" ? json(nullptr) : json(type)}};
    if (param) error["param"] = *param;
    return {{"error", std::move(error)}};
}

std::string OpenAiDialect::streamErrorEvent(ApiEndpoint endpoint, const std::string& message,
                                           const StreamErrorContext& context) const {
    if (endpoint == ApiEndpoint::Responses)
        return responsesStreamErrorEvent("upstream_stream_interrupted", message, context.sequenceNumber);
    const json body = errorBody(502, "upstream_stream_interrupted", message, std::nullopt);
    return "data: " + dumpJson(body) + "\n\n";
}

std::optional<std::string> OpenAiDialect::upstreamErrorMessage(std::string_view body) const {
    const ParsedJson parsed = parseUntrusted(body);
    const json* error = JsonReader::member(parsed.value, "error");
    if (!error) return std::nullopt;
    if (error->is_string()) return error->get<std::string>();
    if (const json* message = JsonReader::member(*error, "message"); message && message->is_string())
        return message->get<std::string>();
    return std::nullopt;
}

} // namespace fusebox
