#pragma once
// OpenAI's Responses API (POST /v1/responses) as the relay sees it: which streamed events carry output (where a
// stream commits), which end the answer, where the usage is, and the error event a Responses client reads as a
// failure.
//
// A Responses stream announces itself first (response.created, response.in_progress, output_item.added,
// content_part.added): none of that is output, and a provider that fails then is failed over like one that
// never answered. The first event with output commits it: a non-empty delta of any kind (output text,
// function-call arguments, refusal, reasoning), or, from a provider that sends no deltas, a "done" event or
// response.completed that carries output. response.completed and response.incomplete are the answer's proper
// end (and its usage); response.failed and `error` are in-band errors.
#include "providers/Dialect.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace fusebox {

StreamEventInfo inspectResponsesEvent(const SseEvent& event, Usage& usage);
// A Responses usage object: input_tokens (cached ones included, as in Chat Completions), output_tokens
// (reasoning included), input_tokens_details.cached_tokens, output_tokens_details.reasoning_tokens.
void readResponsesUsage(const nlohmann::json& usage, Usage& out);

// The `error` event that ends a broken Responses stream. Its data has the documented fields at the top (type,
// code, message, param, sequence_number: the openai SDKs' ResponseErrorEvent) and, as the live API sends them,
// the same inside "error" (openai-python raises on a data "error" member; openai-node throws on the `error`
// event with data.error and data.message). Codex ignores `error` events but fails a stream that ends without
// response.completed, which this one never sends.
std::string responsesStreamErrorEvent(const std::string& code, const std::string& message, int64_t sequenceNumber);

// The sequence_number of the last Responses event in `sseBytes`, or -1 when none says one.
int64_t lastSequenceNumber(std::string_view sseBytes);

} // namespace fusebox
