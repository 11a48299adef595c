#pragma once
// How a SimProvider listens and what its answers look like. Every number a test may want to predict is here.
#include "core/Clock.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fusebox::sim {

struct Options {
    std::string host = "127.0.0.1";
    // 0 picks a free port; after stop() a restart binds the port it had before (provider down, then back).
    uint16_t port = 0;
    int threads = 1; // I/O threads running the provider's own io_context

    // Streamed answers: `streamEvents` content events, each preceded by `eventInterval` (asio timers, no
    // sleeps). The preamble (role delta / message_start, content_block_start, ping) is sent at once with the
    // headers and the closing events right after the last content event, so a stream lasts about streamEvents
    // × eventInterval.
    Millis eventInterval{50};
    int streamEvents = 20;

    // Usage (see SimResponses.h for the formula). inputTokens > 0 replaces the formula with a fixed count.
    int inputTokens = 0;
    int cacheReadTokens = 0; // Anthropic cache_read_input_tokens; OpenAI prompt_tokens_details.cached_tokens
    int cacheCreationTokens = 0; // Anthropic cache_creation_input_tokens
    int embeddingDimensions = 8;

    std::vector<std::string> models = {"sim-1", "sim-1-mini"}; // what GET /v1/models lists

    // Non-empty: every request must carry it (`Authorization: Bearer KEY` or `x-api-key: KEY`), else 401.
    std::string apiKey;

    std::size_t recentCapacity = 100;          // how many requests recentRequests() keeps
    std::size_t bodyLimit = 64u * 1024 * 1024; // larger request bodies get 413
};

} // namespace fusebox::sim
