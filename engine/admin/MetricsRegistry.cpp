#include "admin/MetricsRegistry.h"

#include <cstdio>

namespace fusebox {

std::string escapeLabelValue(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void MetricsRegistry::record(const AttemptRecord& a) {
    const double seconds = std::chrono::duration<double>(a.duration).count();
    const bool reachedProvider = a.outcome != Outcome::ShortCircuited;
    std::lock_guard lock(m_mutex);
    const std::string_view route = a.metricsLabel.empty() ? a.route : a.metricsLabel;
    std::tuple<std::string_view, std::string_view, std::string_view> key{route, a.provider, outcomeName(a.outcome)};
    auto series = m_requests.find(key);
    if (series == m_requests.end()) {
        // A backstop for label sets nobody meant to be endless: past the cap, new ones share one series.
        if (m_requests.size() >= kMaxRequestSeries) std::get<0>(key) = "other";
        series = m_requests.try_emplace(std::tuple<std::string, std::string, std::string>(key), 0).first;
    }
    ++series->second;
    auto provider = m_providers.find(a.provider);
    if (provider == m_providers.end()) provider = m_providers.try_emplace(a.provider).first;
    ProviderTotals& p = provider->second;
    if (reachedProvider) {
        std::size_t i = 0;
        while (i < kBuckets.size() && seconds > kBuckets[i])
            ++i;
        if (i < kBuckets.size()) ++p.duration.counts[i];
        ++p.duration.count;
        p.duration.sum += seconds;
    }
    if (a.costUsd) p.spendUsd += *a.costUsd;
    p.inputTokens += static_cast<uint64_t>(std::max<int64_t>(0, a.usage.inputTokens));
    p.outputTokens += static_cast<uint64_t>(std::max<int64_t>(0, a.usage.outputTokens));
}

namespace {
std::string number(double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    return buffer;
}
void family(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}
} // namespace

void MetricsRegistry::renderFleet(std::string& out, const FleetStatus& fleet) {
    family(out, "fusebox_fleet_redis_up", "gauge", "1 while this replica is connected to the fleet's Redis.");
    out += std::string("fusebox_fleet_redis_up ") + (fleet.redis == RedisLink::Connected ? "1" : "0") + "\n";
    family(out, "fusebox_fleet_replicas", "gauge", "Replicas of the fleet seen in the last 30 s, this one included.");
    out += "fusebox_fleet_replicas " + std::to_string(fleet.enabled ? std::max<std::size_t>(1, fleet.replicas.size()) : 1) + "\n";
    family(out, "fusebox_fleet_sync_delay_seconds", "histogram",
           "From a verdict or route published by another replica to applied here, seconds (by Redis's clock).");
    uint64_t cumulative = 0;
    for (std::size_t i = 0; i < FleetStatus::kDelayBuckets.size(); ++i) {
        cumulative += fleet.delayCounts[i];
        out += "fusebox_fleet_sync_delay_seconds_bucket{le=\"" + number(FleetStatus::kDelayBuckets[i]) + "\"} " +
               std::to_string(cumulative) + "\n";
    }
    out += "fusebox_fleet_sync_delay_seconds_bucket{le=\"+Inf\"} " + std::to_string(fleet.delayCount) + "\n";
    out += "fusebox_fleet_sync_delay_seconds_sum " + number(fleet.delaySumS) + "\n";
    out += "fusebox_fleet_sync_delay_seconds_count " + std::to_string(fleet.delayCount) + "\n";
}

std::string MetricsRegistry::render(const EngineSnapshot& snapshot) const {
    std::string out;
    out.reserve(4096);
    family(out, "fusebox_breaker_state", "gauge",
           "Breaker state of each provider: 1 for the current state, 0 for the others.");
    for (const auto& p : snapshot.providers) {
        const std::string provider = escapeLabelValue(p.id);
        for (BreakerState s : kAllBreakerStates)
            out += "fusebox_breaker_state{provider=\"" + provider + "\",state=\"" +
                   std::string(breakerStateName(s)) + "\"} " + (s == p.breaker.state ? "1" : "0") + "\n";
    }
    family(out, "fusebox_breaker_transitions_total", "counter",
           "Breaker transitions since start, by the state entered.");
    for (const auto& p : snapshot.providers) {
        const std::string provider = escapeLabelValue(p.id);
        for (BreakerState s : kAllBreakerStates)
            out += "fusebox_breaker_transitions_total{provider=\"" + provider + "\",to=\"" +
                   std::string(breakerStateName(s)) + "\"} " +
                   std::to_string(p.breaker.transitionsTo[static_cast<std::size_t>(s)]) + "\n";
    }

    renderFleet(out, snapshot.fleet);

    std::lock_guard lock(m_mutex);
    family(out, "fusebox_requests_total", "counter",
           "Upstream attempts by route, provider and outcome (short_circuited: refused by the breaker).");
    for (const auto& [key, count] : m_requests) {
        const auto& [route, provider, outcome] = key;
        out += "fusebox_requests_total{route=\"" + escapeLabelValue(route) + "\",provider=\"" +
               escapeLabelValue(provider) + "\",outcome=\"" + outcome + "\"} " + std::to_string(count) + "\n";
    }
    // Every configured provider appears in the per-provider families, at zero before its first attempt.
    auto totalsOf = [&](const std::string& id) -> const ProviderTotals& {
        static const ProviderTotals kEmpty;
        auto it = m_providers.find(id);
        return it == m_providers.end() ? kEmpty : it->second;
    };
    family(out, "fusebox_upstream_duration_seconds", "histogram",
           "Duration of upstream attempts that reached the provider, seconds.");
    for (const auto& p : snapshot.providers) {
        const std::string provider = escapeLabelValue(p.id);
        const Histogram& h = totalsOf(p.id).duration;
        uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += h.counts[i];
            out += "fusebox_upstream_duration_seconds_bucket{provider=\"" + provider + "\",le=\"" +
                   number(kBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
        }
        out += "fusebox_upstream_duration_seconds_bucket{provider=\"" + provider + "\",le=\"+Inf\"} " +
               std::to_string(h.count) + "\n";
        out += "fusebox_upstream_duration_seconds_sum{provider=\"" + provider + "\"} " + number(h.sum) + "\n";
        out += "fusebox_upstream_duration_seconds_count{provider=\"" + provider + "\"} " +
               std::to_string(h.count) + "\n";
    }
    family(out, "fusebox_spend_usd_total", "counter",
           "Cost of upstream attempts in USD, from priced usage (unpriced models count no dollars).");
    for (const auto& p : snapshot.providers)
        out += "fusebox_spend_usd_total{provider=\"" + escapeLabelValue(p.id) + "\"} " +
               number(totalsOf(p.id).spendUsd) + "\n";
    family(out, "fusebox_tokens_total", "counter",
           "Tokens reported by providers, by direction (input, output).");
    for (const auto& p : snapshot.providers) {
        const std::string provider = escapeLabelValue(p.id);
        const ProviderTotals& t = totalsOf(p.id);
        out += "fusebox_tokens_total{provider=\"" + provider + "\",direction=\"input\"} " +
               std::to_string(t.inputTokens) + "\n";
        out += "fusebox_tokens_total{provider=\"" + provider + "\",direction=\"output\"} " +
               std::to_string(t.outputTokens) + "\n";
    }
    return out;
}

} // namespace fusebox
