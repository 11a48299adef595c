#pragma once
// What a SimProvider's connections share: the options, the fault switch, the counters and the request log.
// Held by shared_ptr from every connection, so a connection that outlives a stop() still finds it.
#include "sim/SimFaultSwitch.h"
#include "sim/SimOptions.h"
#include "sim/SimResponses.h"
#include "sim/SimStats.h"

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

namespace fusebox::sim {

struct Counters {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> chatCompletions{0};
    std::atomic<uint64_t> embeddings{0};
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> models{0};
    std::atomic<uint64_t> responses{0};
    std::atomic<uint64_t> completions{0};
    std::atomic<uint64_t> countTokens{0};
    std::atomic<uint64_t> notFound{0};
    std::atomic<uint64_t> connectionsAccepted{0};
    std::atomic<uint64_t> faultsInjected{0};
    std::atomic<uint64_t> streamsStarted{0};
    std::atomic<uint64_t> streamsCompleted{0};
    std::atomic<uint64_t> streamsAborted{0};
    std::atomic<uint64_t> streamsCut{0};
    std::atomic<int64_t> openConnections{0};
    std::atomic<int64_t> activeStreams{0};
    std::atomic<int64_t> hanging{0};
};

class SimState {
  public:
    explicit SimState(Options options) : options(std::move(options)) {}

    const Options options;
    FaultSwitch faults;
    Counters counters;

    // Returns the request's number (1-based), used in response and reply ids.
    uint64_t countRequest(Endpoint endpoint);
    void record(RecordedRequest request);
    std::vector<RecordedRequest> recent() const;
    Stats stats() const;
    void resetCumulative(); // counters that only grow, and the request log; gauges stay true

  private:
    mutable std::mutex m_recentMutex;
    std::deque<RecordedRequest> m_recent;
    std::atomic<uint64_t> m_requestNumbers{0}; // not reset by resetCumulative(): ids stay unique
};

} // namespace fusebox::sim
