#pragma once
// The sim's answers for OpenAI's Responses API and legacy Completions, and Anthropic's count_tokens, with the
// same text and usage rules as the other endpoints (SimResponses.h).
//
// A Responses stream, as OpenAI's: response.created, response.in_progress, response.output_item.added and
// response.content_part.added at once (sequence numbers 0-3), one response.output_text.delta per piece, then
// output_text.done, content_part.done, output_item.done and response.completed (response.incomplete, reason
// max_output_tokens, when max_output_tokens cut it short) carrying the usage. Its in-band error (the
// StreamError fault) is response.failed, with code rate_limit_exceeded for a 429 and server_error otherwise.
#include "sim/SimResponses.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace fusebox::sim {

std::string responsesBody(const Reply& reply);
StreamScript responsesStream(const Reply& reply);
std::string responsesFailedEvent(const Reply& reply, int status, std::string_view message, int64_t sequenceNumber);

std::string completionBody(const Reply& reply);
StreamScript completionStream(const Reply& reply);

std::string countTokensBody(const Reply& reply);

} // namespace fusebox::sim
