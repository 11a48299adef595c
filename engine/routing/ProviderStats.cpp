#include "routing/ProviderStats.h"

#include "breaker/SlidingWindow.h"

#include <algorithm>

namespace fusebox {

ProviderStats::ProviderStats(Clock& clock) : m_clock(clock) { m_durations.reserve(kSamples); }

void ProviderStats::advance(int64_t second) const {
    auto& slot = m_seconds[static_cast<std::size_t>(second) % kSeconds];
    if (slot.second != second) slot = Second{second, 0, 0};
}

void ProviderStats::record(const AttemptRecord& attempt) {
    const int64_t second = steadySecond(m_clock.now());
    std::lock_guard lock(m_mutex);
    if (attempt.outcome == Outcome::ShortCircuited) {
        ++m_totals.shortCircuitedTotal;
        return;
    }
    ++m_totals.attemptsTotal;
    m_totals.inputTokensTotal += static_cast<uint64_t>(std::max<int64_t>(0, attempt.usage.inputTokens));
    m_totals.outputTokensTotal += static_cast<uint64_t>(std::max<int64_t>(0, attempt.usage.outputTokens));
    if (attempt.outcome == Outcome::Cancelled) return; // the client's choice says nothing about the provider
    advance(second);
    auto& slot = m_seconds[static_cast<std::size_t>(second) % kSeconds];
    ++slot.calls;
    if (attempt.outcome != Outcome::Success && attempt.outcome != Outcome::ClientError) {
        ++slot.errors;
        ++m_totals.errorsTotal;
    }
    const Sample sample{second, static_cast<float>(attempt.duration.count())};
    if (m_durations.size() < kSamples) m_durations.push_back(sample);
    else m_durations[m_next] = sample;
    m_next = (m_next + 1) % kSamples;
}

ProviderFigures ProviderStats::figures() const {
    const int64_t now = steadySecond(m_clock.now());
    std::lock_guard lock(m_mutex);
    ProviderFigures f = m_totals;
    uint64_t recentCalls = 0, calls = 0, errors = 0;
    for (const auto& slot : m_seconds) {
        if (slot.second < 0 || slot.second > now || now - slot.second >= static_cast<int64_t>(kSeconds)) continue;
        calls += slot.calls;
        errors += slot.errors;
        // The current second is still filling; the last ten whole seconds make a steadier rate.
        if (now - slot.second >= 1 && now - slot.second <= 10) recentCalls += slot.calls;
    }
    f.requestsPerSecond = static_cast<double>(recentCalls) / 10.0;
    f.recentCalls = calls;
    f.errorRate = calls ? static_cast<double>(errors) / static_cast<double>(calls) : 0.0;
    std::vector<float> sorted;
    sorted.reserve(m_durations.size());
    for (const auto& sample : m_durations)
        if (now - sample.second < kLatencySeconds) sorted.push_back(sample.ms);
    f.recentLatencySamples = static_cast<uint32_t>(sorted.size());
    if (!sorted.empty()) {
        std::sort(sorted.begin(), sorted.end());
        const auto at = [&sorted](double q) {
            return static_cast<double>(sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(q * static_cast<double>(sorted.size())))]);
        };
        f.p50Ms = at(0.50);
        f.p95Ms = at(0.95);
        f.p99Ms = at(0.99);
    }
    return f;
}

} // namespace fusebox
