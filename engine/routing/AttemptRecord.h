#pragma once
// One upstream attempt, as every observer sees it: the breaker board, metrics, the journal, spend.
#include "breaker/Outcome.h"
#include "core/Clock.h"
#include "providers/Dialect.h"

#include <optional>
#include <string>

namespace fusebox {

struct AttemptRecord {
    WallTime at{};
    std::string requestId;
    std::string route;
    std::string metricsLabel; // the route as /metrics labels it (bounded; see Resolution); empty: `route`
    std::string provider;
    std::size_t providerIndex = 0;
    std::string model; // as sent upstream
    ApiEndpoint endpoint = ApiEndpoint::ChatCompletions;
    bool stream = false;
    Outcome outcome = Outcome::Success;
    int status = 0; // upstream HTTP status; 0 when none
    Millis timeToFirstByte{0};
    Millis duration{0};
    Usage usage;
    std::optional<double> costUsd; // from the price table; unset when the model has no price (never $0)
    bool delivered = false; // the answer reached the client whole
    std::string state;      // the provider's breaker state after the attempt
    std::string reason;     // why it failed or was refused; empty on success
};

} // namespace fusebox
