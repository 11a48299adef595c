#pragma once
// What a breaker exchanges with the fleet (engine/fleet/FleetSync), in the breaker's own terms: the breaker
// never knows Redis. A verdict is a state some replica decided, with how long it lasts; the local view is what
// this replica would tell the fleet.
#include "breaker/BreakerState.h"
#include "core/Clock.h"

#include <cstdint>
#include <string>

namespace fusebox {

struct FleetVerdict {
    BreakerState state = BreakerState::Closed; // closed, open, forced_open or forced_closed (half-open is local)
    Millis remaining{0};                       // open: what is left of the open period, by Redis's clock
    int opens = 0;                             // the fleet's backoff level: open_s × backoff^(opens-1)
    std::string origin;                        // the replica whose verdict it is
    std::string reason;                        // as the origin wrote it, without "[replica X]"
    bool clearWindow = false;                  // a reset: forget the window and the backoff even when closed
};

struct LocalBreakerView {
    BreakerState state = BreakerState::Closed;
    Millis remaining{0};
    int opens = 0;
    std::string reason;
    std::string origin;      // empty when this replica decided the current state
    bool byOperator = false; // the current state is an operator's command (published as the command instead)
    int probesInFlight = 0;
};

} // namespace fusebox
