#pragma once
// One "dialect" per API family (CONTRACT §3): where requests go, how a provider is authenticated, what an error
// looks like, how a stream is framed, where it commits, and where the usage is. The proxy knows nothing of
// OpenAI or Anthropic itself; it asks the dialect.
#include "breaker/Outcome.h"
#include "config/Config.h"
#include "core/UntrustedJson.h"
#include "providers/SseParser.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fusebox {

class SimdObjectView; // core/SimdObjectView.h

// Header names and values.
using HeaderList = std::vector<std::pair<std::string, std::string>>;
// A client's request headers, for a dialect to choose from: lower-case names; the values are views into the
// request, which outlives the choosing (only what passes is copied).
using ClientHeaders = std::vector<std::pair<std::string, std::string_view>>;

// The client-facing (and upstream) APIs. Responses and Completions are OpenAI's; CountTokens is Anthropic's
// POST /v1/messages/count_tokens.
enum class ApiEndpoint { ChatCompletions, Embeddings, Messages, Responses, Completions, CountTokens };
ProviderKind apiFamily(ApiEndpoint endpoint);
const char* endpointPath(ApiEndpoint endpoint); // the client-facing path, e.g. "/v1/messages"
// Whether `provider` serves `endpoint` itself, as it is (no translation): an OpenAI-kind provider serves Chat
// Completions, Embeddings and legacy Completions, and Responses unless it says "api": "chat"; an Anthropic-kind
// provider serves Messages and CountTokens.
bool servesEndpoint(const ProviderConfig& provider, ApiEndpoint endpoint);
// What a provider speaks, for reasons: "the openai API", "the openai API (Chat Completions only)".
std::string apiDescription(const ProviderConfig& provider);

// The rule for the client's request headers that reach a provider (README "Headers"): never a credential or a
// header of the HTTP connection itself, whatever the dialect allows. True when `name` (lower case) is such.
bool neverForwarded(std::string_view name);

struct Usage {
    int64_t inputTokens = 0;
    int64_t outputTokens = 0;
    int64_t cacheReadTokens = 0;  // Anthropic cache_read_input_tokens; OpenAI prompt_tokens_details.cached_tokens
    int64_t cacheWriteTokens = 0; // Anthropic cache_creation_input_tokens
    int64_t reasoningTokens = 0;  // OpenAI's output_tokens_details.reasoning_tokens: part of outputTokens
    bool reported = false;        // the provider said something about usage
};

// What one streamed event means to the relay.
struct StreamEventInfo {
    bool content = false;     // content-bearing: the stream commits here
    bool terminal = false;    // the provider's proper end of stream
    // The answer's last content event (OpenAI: a choice's finish_reason; Anthropic: message_delta's stop_reason,
    // or message_stop). Once it is relayed the client has the whole answer, and only the usage is still to come.
    bool final = false;
    bool usageOnly = false;   // OpenAI's include_usage chunk, dropped when the client did not ask for it
    bool error = false;       // an in-band error event
    Outcome errorOutcome = Outcome::ServerError;
    std::string errorMessage;
};

// What our own error event at the end of a broken stream may say besides the message.
struct StreamErrorContext {
    int64_t sequenceNumber = 0; // Responses: the number the event carries (one past the last relayed)
};

class Dialect {
public:
    virtual ~Dialect() = default;
    virtual ProviderKind kind() const = 0;
    // The family's main endpoint (Chat Completions, Messages): what the endpoint-less conveniences below mean.
    virtual ApiEndpoint mainEndpoint() const = 0;
    // The upstream URL for `endpoint` at this provider.
    virtual std::string upstreamUrl(const ProviderConfig& provider, ApiEndpoint endpoint) const = 0;
    // Headers for the provider: its own key in its own header, plus what of the client's headers (`client`,
    // lower-case names) this API uses for caching and routing. Never a credential (neverForwarded).
    virtual void providerHeaders(const ProviderConfig& provider, const ClientHeaders& client,
                                 HeaderList& out) const = 0;
    // Adjusts the request body before it goes upstream (e.g. ask for streamed usage). Returns whether the client
    // itself asked for what was added, so the relay knows whether to strip it again.
    virtual bool prepareBody(nlohmann::json& body, ApiEndpoint endpoint, bool stream) const = 0;
    // prepareBody's change made to the client's bytes themselves, when it can be (`members` holds the body's
    // top-level members that prepareBody reads): the bytes to send and whether the client asked for what was added,
    // or nullopt when the document must be built and changed instead. Spares building and serialising a whole
    // request for one added member.
    virtual std::optional<std::pair<std::string, bool>> preparedBodyText(std::string_view body,
                                                                         const nlohmann::json& members,
                                                                         ApiEndpoint endpoint, bool stream) const {
        (void)body, (void)members, (void)endpoint, (void)stream;
        return std::nullopt;
    }
    // The usage of a whole answer of `endpoint`.
    virtual Usage usageFromBody(const nlohmann::json& body, ApiEndpoint endpoint) const = 0;
    // The same from the answer's top-level "usage" member, an object, in simdjson's document: a whole answer
    // relayed as it came is never built in nlohmann's form (ProxyExchange::finishWhole).
    virtual Usage usageFromMember(const SimdObjectView& usage, ApiEndpoint endpoint) const = 0;
    Usage usageFromBody(const nlohmann::json& body) const { return usageFromBody(body, mainEndpoint()); }
    // Inspects one streamed event of `endpoint`; updates `usage` from it.
    virtual StreamEventInfo inspect(const SseEvent& event, ApiEndpoint endpoint, Usage& usage) const = 0;
    StreamEventInfo inspect(const SseEvent& event, Usage& usage) const {
        return inspect(event, mainEndpoint(), usage);
    }
    // Takes out of a relayed event's bytes what prepareBody's addition made the provider put there, for a client
    // that did not ask for it (OpenAI: "usage": null in every chunk). An event without it is left untouched.
    virtual void dropAddedUsage(std::string& eventBytes) const = 0;

    // Shapes of our own answers, in this API's own format.
    virtual nlohmann::json errorBody(int status, const std::string& type, const std::string& message,
                                     const std::optional<std::string>& param = std::nullopt) const = 0;
    // The event that ends a committed stream of `endpoint` the upstream broke: an explicit error, never a clean
    // end.
    virtual std::string streamErrorEvent(ApiEndpoint endpoint, const std::string& message,
                                         const StreamErrorContext& context = {}) const = 0;
    // The provider's own error message from an error body, if it has the usual shape.
    virtual std::optional<std::string> upstreamErrorMessage(std::string_view body) const = 0;
};

const Dialect& dialectFor(ProviderKind kind);

// A token count a provider reported: 0 when absent, not an integer or negative, and at most kMaxTokenCount, so
// that sums and differences of counts (prompt = input + cache reads + cache writes) can never overflow.
inline constexpr int64_t kMaxTokenCount = 1'000'000'000'000;
int64_t tokenField(const nlohmann::json& object, std::string_view key);
// The same for a count read through a JsonObjectView or SimdObjectView (core/): nothing reads as 0.
inline int64_t tokenCount(std::optional<int64_t> value) {
    return std::clamp<int64_t>(value.value_or(0), 0, kMaxTokenCount);
}

} // namespace fusebox
