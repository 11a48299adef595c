#pragma once
// The bodies a SimProvider answers with, in both dialects, and the deterministic usage behind them.
//
// Usage, so tests can compute exact costs:
//   input tokens  = ceil(B / 4), at least 1, where B is the byte length of all text in the request:
//                   chat completions: every messages[].content (a string, or the `text` of each part);
//                   messages: `system` (string or text blocks) plus every messages[].content likewise;
//                   embeddings: every string in `input` (a token array counts 4 bytes per token);
//                   responses: `instructions` plus `input` (a string, or the content of every input item);
//                   legacy completions: `prompt` (a string or a list of strings);
//                   count_tokens: as messages (its answer is {"input_tokens": that number}).
//                   Options::inputTokens > 0 replaces the formula with that fixed number.
//   output tokens = the number of content events N = min(Options::streamEvents, max_tokens) (OpenAI also
//                   reads max_completion_tokens; the Responses API max_output_tokens), at least 1. Streamed or not, the answer is the same N
//                   pieces. When max_tokens cut it short the finish reason is "length" / "max_tokens", else
//                   "stop" / "end_turn".
//   Anthropic also reports Options::cacheReadTokens / cacheCreationTokens (OpenAI: cached_tokens).
//   NOTE: like the real API, Anthropic's message_start says output_tokens 1; the count is in message_delta.
//
// The text: piece i is kWords[i % 8], with a leading space for i > 0, so contentText(3) is
// "Fusebox sim says". contentPiece() / contentText() let a test build the expected text.
#include "sim/SimOptions.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox::sim {

enum class Dialect { OpenAI, Anthropic };
enum class Endpoint { ChatCompletions, Embeddings, Messages, Models, Responses, Completions, CountTokens, Unknown };

// By path (query ignored); an unknown path is still given the dialect its shape most resembles.
Endpoint endpointOf(std::string_view path);
Dialect dialectOf(Endpoint endpoint, std::string_view path);

std::string contentPiece(int index);
std::string contentText(int count);

int inputTokensFor(const nlohmann::json& request, Endpoint endpoint);
int outputTokensFor(const nlohmann::json& request, Endpoint endpoint, int streamEvents);

// Everything one answer needs; built once per request so the streamed and plain forms agree.
struct Reply {
    std::string id;
    std::string model;
    int64_t created = 0; // unix seconds
    int inputTokens = 1;
    int outputTokens = 1;
    bool truncated = false; // max_tokens cut the answer short
    int cacheReadTokens = 0;
    int cacheCreationTokens = 0;
    bool includeUsage = false; // OpenAI stream_options.include_usage
};

std::string chatCompletionBody(const Reply& reply);
std::string messageBody(const Reply& reply);
std::string embeddingsBody(const nlohmann::json& request, const Reply& reply, int dimensions);
std::string modelsBody(const std::vector<std::string>& models, Dialect dialect);

// A streamed answer as SSE text: sent at once, one piece per content event, then the closing events.
struct StreamScript {
    std::string preamble;
    std::vector<std::string> content;
    std::string epilogue;
    int64_t firstContentSequence = -1; // Responses: the sequence_number of content[0] (events are numbered)
};
StreamScript chatCompletionStream(const Reply& reply);
StreamScript messageStream(const Reply& reply);

// Errors in each dialect's own shape. `code` is OpenAI's error.code (null when empty; defaults by status).
const char* errorType(Dialect dialect, int status);
std::string errorBody(Dialect dialect, int status, std::string_view message, std::string_view code = {});
std::string streamErrorEvent(Dialect dialect, int status, std::string_view message);
std::string defaultErrorMessage(int status);

// 200 bodies that parse as neither JSON nor a well-formed event stream.
std::string garbageBody(bool streamed);

} // namespace fusebox::sim
