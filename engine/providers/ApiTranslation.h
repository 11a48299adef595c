#pragma once
// A request, its answer and its stream carried across APIs, so a route may fall over from an OpenAI-kind provider
// to an Anthropic one (and back), and a Responses client may be answered by a Chat Completions or Messages
// provider. Everything goes through one pivot (providers/translation/Pivot.h): each API decodes into it and
// encodes from it.
//
// What crosses: system prompts (system / developer / instructions), user and assistant turns, text, images (URL
// and base64), function tools, tool_choice, parallel tool calls, tool calls and tool results, refusals, stop
// reasons, usage, streamed text and tool-call argument fragments (byte for byte), in-band errors. Hints the target
// lacks are dropped as LiteLLM's drop_params does (sampling extras, cache_control, reasoning effort, thinking,
// store, include, ...); reasoning and thinking content is never shown as text. What cannot cross is refused with a
// reason naming the field, and that target is skipped, never called with half a request: state the provider keeps
// (previous_response_id, conversation, item_reference, file ids), tools the provider runs or defines itself
// (web_search, file_search, code_interpreter, Anthropic's server tools, ...), freeform custom tools, several
// choices, audio, documents, log probabilities.
#include "providers/Dialect.h"
#include "providers/SseParser.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

namespace fusebox {

namespace translation {
class StreamDecoder;
class StreamEncoder;
} // namespace translation

// The client-facing endpoints that can reach a provider of another API: chat completions, responses, messages.
bool translatable(ApiEndpoint endpoint);
// The endpoint `provider` serves for a client's `endpoint`: the same one when it can take it as it is, else the
// one a translation goes to (Responses: to Chat Completions at an OpenAI-kind provider with "api": "chat", to
// Messages at an Anthropic one). An endpoint that is not translatable is its own answer.
ApiEndpoint upstreamEndpoint(ApiEndpoint endpoint, const ProviderConfig& provider);

struct RequestTranslation {
    std::optional<nlohmann::json> body; // the request as the provider's API wants it, with `model`
    std::string whyNot;                 // or: what the other API cannot express, naming the field (skipped)
    std::string invalid;                // or: the request itself is malformed, naming the field (a 400)
};
// The client's request (of API `from`: ChatCompletions, Messages or Responses) for a provider of API `to`
// (ChatCompletions or Messages).
RequestTranslation translateRequest(const nlohmann::json& body, ApiEndpoint from, ApiEndpoint to,
                                    const std::string& model);

// A provider's successful, non-streamed answer (ChatCompletions or Messages) in the client's API (ChatCompletions,
// Messages or Responses); std::nullopt and `error` (naming the field) when the answer is not what its API
// promises, or cannot be put in the client's API.
std::optional<nlohmann::json> translateAnswer(const nlohmann::json& answer, ApiEndpoint providerEndpoint,
                                              ApiEndpoint clientEndpoint, std::string& error);

// A provider's stream (ChatCompletions or Messages), event by event, in the client's API (ChatCompletions,
// Messages or Responses). One per attempt.
class StreamTranslator {
public:
    // `clientAskedUsage`: an OpenAI Chat client's stream_options.include_usage (the usage chunk is sent only then).
    StreamTranslator(ApiEndpoint providerEndpoint, ApiEndpoint clientEndpoint, bool clientAskedUsage);
    StreamTranslator(StreamTranslator&&) noexcept;
    StreamTranslator& operator=(StreamTranslator&&) noexcept;
    ~StreamTranslator();

    // The client's SSE bytes for one provider event (often none). `usage` is the attempt's usage so far, as the
    // provider's dialect read it; `info` is that dialect's view of the event (an error event is answered in the
    // client's shape: a Responses client gets response.failed). std::nullopt when the event is malformed or
    // cannot be put in the client's framing (error() names the field): the exchange treats that as a bad_response.
    std::optional<std::string> translate(const SseEvent& event, const StreamEventInfo& info, const Usage& usage);
    const std::string& error() const { return m_error; }

private:
    std::unique_ptr<translation::StreamDecoder> m_decoder;
    std::unique_ptr<translation::StreamEncoder> m_encoder;
    std::string m_error;
};

} // namespace fusebox
