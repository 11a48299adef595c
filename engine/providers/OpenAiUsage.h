#pragma once
// OpenAI's two usage objects, Chat Completions' (prompt_tokens, completion_tokens, prompt_tokens_details.
// cached_tokens, completion_tokens_details.reasoning_tokens) and the Responses API's (input_tokens, output_tokens,
// input_tokens_details..., output_tokens_details...): the same counts under other names, read once through either
// view of a document (core/JsonObjectView.h, core/SimdObjectView.h).
#include "providers/Dialect.h"

namespace fusebox {

struct OpenAiUsageNames {
    const char* input;
    const char* output;
    const char* inputDetails;  // holds cached_tokens
    const char* outputDetails; // holds reasoning_tokens
};

inline constexpr OpenAiUsageNames kChatUsageNames{"prompt_tokens", "completion_tokens", "prompt_tokens_details",
                                                   "completion_tokens_details"};
inline constexpr OpenAiUsageNames kResponsesUsageNames{"input_tokens", "output_tokens", "input_tokens_details",
                                                        "output_tokens_details"};

// `usage` is an object.
template <class Object> void readOpenAiUsage(const Object& usage, const OpenAiUsageNames& names, Usage& out) {
    out.reported = true;
    out.inputTokens = tokenCount(usage.integer(names.input));
    out.outputTokens = tokenCount(usage.integer(names.output));
    if (auto details = usage.object(names.inputDetails)) out.cacheReadTokens = tokenCount(details->integer("cached_tokens"));
    if (auto details = usage.object(names.outputDetails))
        out.reasoningTokens = tokenCount(details->integer("reasoning_tokens"));
}

} // namespace fusebox
