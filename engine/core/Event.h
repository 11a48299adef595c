#pragma once
// Discrete things that happened, for the event log, the admin event stream and the journal.
#include "core/Clock.h"

#include <cstdint>
#include <string>

namespace fusebox {

enum class EventType { Breaker, Operator, Route };

const char* eventTypeName(EventType type);

struct Event {
    uint64_t seq = 0; // assigned by the EventBus, increasing
    EventType type = EventType::Breaker;
    WallTime at{};
    std::string provider; // breaker and operator events
    std::string route;    // route events
    std::string from;     // breaker: state before; route: the old target order
    std::string to;       // breaker: state after; route: the new target order
    std::string action;   // operator: force_open, force_close, reset
    std::string reason;   // always a sentence a person can read
    std::string replica;  // the fleet replica it came from; the bus fills in this one's when empty
    bool fromFleet = false; // applied here from another replica's verdict or command (not to be published again)
};

} // namespace fusebox
