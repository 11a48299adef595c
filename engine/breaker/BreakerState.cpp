#include "breaker/BreakerState.h"

namespace fusebox {

std::string_view breakerStateName(BreakerState state) {
    switch (state) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half_open";
    case BreakerState::ForcedOpen: return "forced_open";
    case BreakerState::ForcedClosed: return "forced_closed";
    }
    return "closed";
}

std::optional<BreakerState> breakerStateFromName(std::string_view name) {
    for (BreakerState s : kAllBreakerStates)
        if (breakerStateName(s) == name) return s;
    return std::nullopt;
}

} // namespace fusebox
