#pragma once
// The sentences a person reads for each breaker transition, e.g.
// "failure rate 62% ≥ 50% over 60 s (31 of 50 calls)". Kept in one place so they stay consistent.
#include "breaker/Outcome.h"

#include <string>

namespace fusebox::reasons {

std::string consecutive(int failures, Outcome last);
std::string failureRate(uint32_t failures, uint32_t calls, double threshold, int windowS);
std::string slowRate(uint32_t slow, uint32_t calls, double threshold, int windowS, int slowCallMs);
std::string probeFailed(Outcome outcome);
std::string opened(const std::string& why, double periodS);
std::string rateLimited(bool hadRetryAfter, double askedS, double periodS);
std::string halfOpen(int probes);
std::string closed(int successes, int needed);
std::string byOperator(const char* verb, const std::string& why);

// "12 s", "1.5 s", "250 ms": durations as people write them.
std::string formatSeconds(double seconds);

} // namespace fusebox::reasons
