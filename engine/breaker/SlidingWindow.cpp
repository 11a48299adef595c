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
    m_ring[static_cast<std::size_t>(second % size)].second = second;
}

void SlidingWindow::record(SteadyTime now, Outcome outcome, bool failure, bool slow) {
    advance(steadySecond(now));
    auto& bucket = m_ring[static_cast<std::size_t>(m_head % static_cast<int64_t>(m_ring.size()))];
    bucket.second = m_head;
    WindowCounts one;
    one.outcomes[static_cast<std::size_t>(outcome)] = 1;
    if (countsAsCall(outcome)) {
        one.calls = 1;
        one.failures = failure ? 1 : 0;
        one.slow = slow ? 1 : 0;
    }
    bucket.counts.add(one);
    m_totals.add(one);
}

const WindowCounts& SlidingWindow::totals(SteadyTime now) {
    advance(steadySecond(now));
    return m_totals;
}

std::vector<WindowBucket> SlidingWindow::buckets(SteadyTime now) {
    advance(steadySecond(now));
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
}

} // namespace fusebox
