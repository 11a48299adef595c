#include "breaker/SlidingWindow.h"

#include <algorithm>

namespace fusebox {

void WindowCounts::add(const WindowCounts& other) {
    for (std::size_t i = 0; i < kOutcomeCount; ++i) outcomes[i] += other.outcomes[i];
    calls += other.calls;
    failures += other.failures;
    slow += other.slow;
}

void WindowCounts::subtract(const WindowCounts& other) {
    for (std::size_t i = 0; i < kOutcomeCount; ++i) outcomes[i] -= other.outcomes[i];
    calls -= other.calls;
    failures -= other.failures;
    slow -= other.slow;
}

int64_t steadySecond(SteadyTime t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

SlidingWindow::SlidingWindow(int seconds) : m_ring(static_cast<std::size_t>(std::max(1, seconds))) {}

void SlidingWindow::advanceTo(SteadyTime now) {
    if (now < m_headEnds) return; // the head's second (or earlier: a late caller counts in the newest bucket)
    advance(steadySecond(now));
}

void SlidingWindow::advance(int64_t second) {
    if (second <= m_head) return; // same second, or a late caller: count it in the newest bucket
    const auto size = static_cast<int64_t>(m_ring.size());
    if (m_head == INT64_MIN || second - m_head >= size) {
        // Idle for a whole window: nothing survives.
        for (auto& bucket : m_ring) bucket = WindowBucket{};
        m_totals = WindowCounts{};
    } else {
        for (int64_t s = m_head + 1; s <= second; ++s) {
            auto& bucket = m_ring[static_cast<std::size_t>(s % size)];
            m_totals.subtract(bucket.counts);
            bucket = WindowBucket{};
        }
    }
    m_head = second;
    m_headIndex = static_cast<std::size_t>(second % size);
    m_ring[m_headIndex].second = second;
    m_headEnds = SteadyTime(std::chrono::seconds(second + 1));
}

void SlidingWindow::record(SteadyTime now, Outcome outcome, bool failure, bool slow) {
    advanceTo(now);
    const auto index = static_cast<std::size_t>(outcome);
    const bool call = countsAsCall(outcome);
    for (WindowCounts* counts : {&m_ring[m_headIndex].counts, &m_totals}) {
        ++counts->outcomes[index];
        if (!call) continue;
        ++counts->calls;
        counts->failures += failure ? 1 : 0;
        counts->slow += slow ? 1 : 0;
    }
}

const WindowCounts& SlidingWindow::totals(SteadyTime now) {
    advanceTo(now);
    return m_totals;
}

std::vector<WindowBucket> SlidingWindow::buckets(SteadyTime now) {
    advanceTo(now);
    std::vector<WindowBucket> out;
    const auto size = static_cast<int64_t>(m_ring.size());
    for (int64_t s = m_head - size + 1; s <= m_head; ++s) {
        if (s < 0) continue;
        const auto& bucket = m_ring[static_cast<std::size_t>(s % size)];
        if (bucket.second == s && (bucket.counts.calls > 0 || bucket.counts.count(Outcome::Cancelled) > 0 ||
                                   bucket.counts.count(Outcome::ShortCircuited) > 0))
            out.push_back(bucket);
    }
    return out;
}

void SlidingWindow::clear() {
    for (auto& bucket : m_ring) bucket = WindowBucket{};
    m_totals = WindowCounts{};
    m_head = INT64_MIN;
    m_headIndex = 0;
    m_headEnds = SteadyTime::min();
}

} // namespace fusebox
