#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace fusebox {

enum class BreakerState : uint8_t { Closed, Open, HalfOpen, ForcedOpen, ForcedClosed };

std::string_view breakerStateName(BreakerState state);
std::optional<BreakerState> breakerStateFromName(std::string_view name);
inline constexpr BreakerState kAllBreakerStates[] = {BreakerState::Closed, BreakerState::Open,
                                                     BreakerState::HalfOpen, BreakerState::ForcedOpen,
                                                     BreakerState::ForcedClosed};

} // namespace fusebox
