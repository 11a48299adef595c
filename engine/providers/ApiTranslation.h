#pragma once
// A chat request, its answer and its stream carried across the two API families, so a route may fall over from
// an OpenAI-kind provider to an Anthropic one (and back), and an OpenAI client may name `anthropic/claude-...`.
//
// Text conversations only: system prompts, user and assistant turns, max tokens, temperature, top_p, stop
// sequences, streaming and usage. What has no faithful counterpart on the other side (tools and function calls,
// images and documents, several choices, log probabilities, structured output, extended thinking) is refused
// with a reason, and that target is skipped, never called with half a request. Sampling hints the other API
// lacks (penalties, seed, top_k, ...) are dropped, as LiteLLM's drop_params does.
#include "providers/Dialect.h"
#include "providers/SseParser.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace fusebox {

// The client-facing endpoints that have a counterpart in the other family: chat completions <-> messages.
bool translatable(ApiEndpoint endpoint);
// The endpoint `provider` serves for a client's `endpoint`: the same one when it can take it as it is, else the
// one a translation goes to.
ApiEndpoint upstreamEndpoint(ApiEndpoint endpoint, const ProviderConfig& provider);

struct RequestTranslation {
    std::optional<nlohmann::json> body; // the request as the provider's API wants it, with `model`
    std::string whyNot;                 // or: what the other API cannot express (the target is skipped)
    std::string invalid;                // or: the request itself is malformed, naming the field (a 400)
};
// The client's request (of API `from`) for a provider of API `to`.
RequestTranslation translateRequest(const nlohmann::json& body, ApiEndpoint from, ApiEndpoint to,
                                    const std::string& model);

// A provider's successful, non-streamed answer (of the other family) in the client's API; std::nullopt and
// `error` (naming the field) when the answer is not what its API promises.
std::optional<nlohmann::json> translateAnswer(const nlohmann::json& answer, ApiEndpoint providerEndpoint,
                                              ApiEndpoint clientEndpoint, std::string& error);

// A provider's stream, event by event, in the client's API. One per attempt.
class StreamTranslator {
public:
    // `clientAskedUsage`: an OpenAI client's stream_options.include_usage (the usage chunk is sent only then).
    StreamTranslator(ApiEndpoint providerEndpoint, ApiEndpoint clientEndpoint, bool clientAskedUsage);

    // The client's SSE bytes for one provider event (often none). `usage` is the attempt's usage so far, as the
    // provider's dialect read it; `info` is that dialect's view of the event. std::nullopt when the event is
    // malformed (error() names the field): the exchange treats that as a bad_response.
    std::optional<std::string> translate(const SseEvent& event, const StreamEventInfo& info, const Usage& usage);
    const std::string& error() const { return m_reader.error(); }

private:
    std::string fromAnthropic(const nlohmann::json& event, const Usage& usage);
    std::string fromOpenAi(const SseEvent& event, const Usage& usage);
    std::string openAiChunk(nlohmann::json delta, const nlohmann::json& finishReason) const;
    std::string anthropicOpening();

    JsonReader m_reader; // the first malformed field of any event
    ApiEndpoint m_clientEndpoint;
    bool m_clientAskedUsage;
    std::string m_id;
    std::string m_model;
    int64_t m_created = 0;
    bool m_opened = false;             // Anthropic client: message_start and content_block_start sent
    std::string m_stopReason = "end_turn"; // Anthropic client: from the provider's finish_reason
};

} // namespace fusebox
