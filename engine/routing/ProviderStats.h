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
    double p50Ms = 0, p95Ms = 0, p99Ms = 0; // attempt durations, over the last 1024 attempts
    uint64_t attemptsTotal = 0;
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
    struct Second {
        int64_t second = -1;
        uint32_t calls = 0;
        uint32_t errors = 0;
    };
    void advance(int64_t second) const;

    Clock& m_clock;
    mutable std::mutex m_mutex;
    mutable std::array<Second, kSeconds> m_seconds{};
    std::vector<float> m_durations; // ring of the latest attempt durations, ms
    std::size_t m_next = 0;
    ProviderFigures m_totals;
};

} // namespace fusebox
