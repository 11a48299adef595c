#include "breaker/BreakerReasons.h"

#include <cmath>
#include <cstdio>

namespace fusebox::reasons {

namespace {
long percent(double fraction) { return std::lround(fraction * 100.0); }
} // namespace

std::string formatSeconds(double seconds) {
    char buffer[48];
    if (seconds < 1.0 && seconds > 0.0)
        std::snprintf(buffer, sizeof buffer, "%ld ms", std::lround(seconds * 1000.0));
    else if (std::abs(seconds - std::round(seconds)) < 0.05)
        std::snprintf(buffer, sizeof buffer, "%ld s", std::lround(seconds));
    else
        std::snprintf(buffer, sizeof buffer, "%.1f s", seconds);
    return buffer;
}

std::string consecutive(int failures, Outcome last) {
    return std::to_string(failures) + " consecutive failures (last: " + std::string(outcomeName(last)) + ")";
}

std::string failureRate(uint32_t failures, uint32_t calls, double threshold, int windowS) {
    return "failure rate " + std::to_string(percent(static_cast<double>(failures) / calls)) + "% \u2265 " +
           std::to_string(percent(threshold)) + "% over " + std::to_string(windowS) + " s (" +
           std::to_string(failures) + " of " + std::to_string(calls) + " calls)";
}

std::string slowRate(uint32_t slow, uint32_t calls, double threshold, int windowS, int slowCallMs) {
    return "slow-call rate " + std::to_string(percent(static_cast<double>(slow) / calls)) + "% \u2265 " +
           std::to_string(percent(threshold)) + "% over " + std::to_string(windowS) + " s (" +
           std::to_string(slow) + " of " + std::to_string(calls) + " calls slower than " +
           std::to_string(slowCallMs) + " ms to first byte)";
}

std::string probeFailed(Outcome outcome) { return "probe failed (" + std::string(outcomeName(outcome)) + ")"; }

std::string opened(const std::string& why, double periodS) {
    return why + "; open for " + formatSeconds(periodS);
}

std::string rateLimited(bool hadRetryAfter, double askedS, double periodS) {
    std::string text = "rate limited (429)";
    text += hadRetryAfter ? ", Retry-After " + formatSeconds(askedS) : " without Retry-After";
    text += "; open for " + formatSeconds(periodS);
    if (periodS + 1e-9 < askedS) text += " (capped by max_open_s)";
    return text;
}

std::string halfOpen(int probes) {
    return "open period over; letting " + std::to_string(probes) + (probes == 1 ? " probe" : " probes") +
           " through";
}

std::string closed(int successes, int needed) {
    return std::to_string(successes) + " of " + std::to_string(needed) + (needed == 1 ? " probe" : " probes") +
           " succeeded";
}

std::string byOperator(const char* verb, const std::string& why) {
    std::string text = std::string(verb) + " by operator";
    if (!why.empty()) text += ": " + why;
    return text;
}

} // namespace fusebox::reasons
