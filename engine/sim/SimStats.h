#pragma once
// What a SimProvider saw, for tests and the demo: counters and the most recent requests verbatim.
#include "core/Clock.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fusebox::sim {

struct Stats {
    // Cumulative since start (or resetStats()).
    uint64_t requests = 0; // every complete request read, whatever its path
    uint64_t chatCompletions = 0;
    uint64_t embeddings = 0;
    uint64_t messages = 0;
    uint64_t models = 0;
    uint64_t responses = 0;   // POST /v1/responses
    uint64_t completions = 0; // POST /v1/completions (legacy)
    uint64_t countTokens = 0; // POST /v1/messages/count_tokens
    uint64_t notFound = 0; // unknown paths
    uint64_t connectionsAccepted = 0;
    uint64_t faultsInjected = 0; // requests a fault was applied to
    uint64_t streamsStarted = 0;
    uint64_t streamsCompleted = 0; // the terminator was written
    uint64_t streamsAborted = 0;   // the client went away mid-stream (write error or EOF)
    uint64_t streamsCut = 0;       // cut on purpose by a CutStream fault
    // Gauges: right now.
    int64_t openConnections = 0;
    int64_t activeStreams = 0;
    int64_t hanging = 0; // requests held by a Hang fault
};

struct RecordedRequest {
    std::string method;
    std::string target;                                       // as sent, query included
    std::vector<std::pair<std::string, std::string>> headers; // in order, names as sent
    std::string body;
    WallTime at{};

    // The first header of that name (case-insensitive), or "" when absent.
    std::string header(std::string_view name) const;
    bool hasHeader(std::string_view name) const;
};

} // namespace fusebox::sim
