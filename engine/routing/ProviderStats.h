#pragma once
// Live figures of one provider for the console and the admin state: requests per second, error rate, latency
// percentiles, tokens. Fed by every attempt; read by snapshots (at most a few times a second).
#include "core/Clock.h"
#include "routing/AttemptRecord.h"

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

namespace fusebox {

struct ProviderFigures {
    double requestsPerSecond = 0; // attempts that reached the provider, over the last 10 s
    double errorRate = 0;         // of those, the share that did not succeed (client errors excluded), last 60 s
    uint64_t recentCalls = 0;     // the calls errorRate is over (last 60 s)
    // Attempt durations over the last 60 s (at most the latest 1024 attempts): a hang long past no longer holds
    // p99 at its timeout. 0 when no attempt ended in that time (see recentLatencySamples).
    double p50Ms = 0, p95Ms = 0, p99Ms = 0;
    uint32_t recentLatencySamples = 0;
    uint64_t attemptsTotal = 0;
    // Attempts that did not succeed (client errors and cancellations excluded) since start: with attemptsTotal
    // and shortCircuitedTotal, a history can tell each interval's own failure rate apart from the window's.
    uint64_t errorsTotal = 0;
    uint64_t shortCircuitedTotal = 0;
    uint64_t inputTokensTotal = 0;
    uint64_t outputTokensTotal = 0;
};

class ProviderStats {
public:
    explicit ProviderStats(Clock& clock);
    void record(const AttemptRecord& attempt);
    ProviderFigures figures() const;

private:
    static constexpr std::size_t kSeconds = 60;
    static constexpr std::size_t kSamples = 1024;
    static constexpr int64_t kLatencySeconds = 60;
    struct Sample {
        int64_t second = 0; // steady seconds when the attempt ended
        float ms = 0;
    };
    struct Second {
        int64_t second = -1;
        uint32_t calls = 0;
        uint32_t errors = 0;
    };
    void advance(int64_t second) const;

    Clock& m_clock;
    mutable std::mutex m_mutex;
    mutable std::array<Second, kSeconds> m_seconds{};
    std::vector<Sample> m_durations; // ring of the latest attempt durations
    std::size_t m_next = 0;
    ProviderFigures m_totals;
};

} // namespace fusebox
