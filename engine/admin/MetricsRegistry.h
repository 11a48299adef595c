#pragma once
// Counters behind GET /metrics (CONTRACT §4), fed by every attempt from Engine::onAttempt on any I/O thread.
// One short mutex around a few map updates per attempt; breaker states and transitions are read from the
// snapshot at scrape time instead of being counted twice.
#include "Snapshot.h"
#include "routing/AttemptRecord.h"

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace fusebox {

class MetricsRegistry {
  public:
    // Upper bounds of the duration histogram, seconds (an LLM call spans milliseconds to minutes).
    static constexpr std::array<double, 15> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                        2.5,   5,    10,    30,   60,  120,  300};

    void record(const AttemptRecord& attempt);
    // The whole exposition, Prometheus text format 0.0.4.
    std::string render(const EngineSnapshot& snapshot) const;

    // Distinct fusebox_requests_total series kept; more are counted under route "other" (README "Limits").
    static constexpr std::size_t kMaxRequestSeries = 10000;

  private:
    static void renderFleet(std::string& out, const FleetStatus& fleet);
    struct Histogram {
        std::array<uint64_t, kBuckets.size()> counts{}; // not cumulative; summed when rendered
        uint64_t count = 0;
        double sum = 0;
    };
    struct ProviderTotals {
        Histogram duration;
        double spendUsd = 0;
        uint64_t inputTokens = 0;
        uint64_t outputTokens = 0;
    };

    mutable std::mutex m_mutex;
    // Orders a series' labels as strings or as views alike (transparent), so an attempt's series is found by
    // views of its labels and their strings are made only for a new series. (Written out: clang 14 cannot
    // compare a tuple of strings with a tuple of views.)
    struct SeriesOrder {
        using is_transparent = void;
        template <class A, class B> bool operator()(const A& a, const B& b) const {
            if (const int c = view<0>(a).compare(view<0>(b))) return c < 0;
            if (const int c = view<1>(a).compare(view<1>(b))) return c < 0;
            return view<2>(a).compare(view<2>(b)) < 0;
        }
        template <std::size_t I, class T> static std::string_view view(const T& key) { return std::get<I>(key); }
    };
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t, SeriesOrder>
        m_requests; // route, provider, outcome
    std::map<std::string, ProviderTotals, std::less<>> m_providers;
};

// Escapes a label value: backslash, double quote and newline.
std::string escapeLabelValue(std::string_view value);

} // namespace fusebox
