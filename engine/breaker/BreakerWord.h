#pragma once
// The layout of CircuitBreaker's atomic word, shared by CircuitBreaker.cpp and CircuitBreakerFleet.cpp:
// bits 0-2 the state, bits 3-18 half-open probes in flight, bits 19-63 the generation.
#include "breaker/BreakerState.h"

#include <cstdint>

namespace fusebox::breakerword {

constexpr uint64_t kStateMask = 0x7;
constexpr int kProbeShift = 3;
constexpr uint64_t kProbeMask = 0xFFFF;
constexpr uint64_t kProbeUnit = uint64_t{1} << kProbeShift;
constexpr int kGenerationShift = 19;

inline BreakerState stateOf(uint64_t word) { return static_cast<BreakerState>(word & kStateMask); }
inline int probesOf(uint64_t word) { return static_cast<int>((word >> kProbeShift) & kProbeMask); }
inline uint64_t generationOf(uint64_t word) { return word >> kGenerationShift; }
inline uint64_t pack(BreakerState state, uint64_t generation) {
    return (generation << kGenerationShift) | static_cast<uint64_t>(state);
}

} // namespace fusebox::breakerword
