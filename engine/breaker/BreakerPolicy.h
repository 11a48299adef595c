#pragma once
// One provider's breaker settings (CONTRACT §2 "breaker"). Defaults are the contract's; the config loader
// validates ranges, so the breaker can trust these values.
#include "breaker/Outcome.h"

namespace fusebox {

struct BreakerPolicy {
    int consecutiveFailures = 5; // failures in a row that open the breaker; 0 disables the rule
    int windowS = 60;            // length of the sliding window
    int minCalls = 10;           // calls the window needs before the rate rules apply
    double failureRate = 0.5;    // failures/calls that open the breaker; 0 disables the rule
    int slowCallMs = 30000;      // a success slower than this to first byte is also "slow"
    double slowCallRate = 1.0;   // slow/calls that open the breaker; 0 disables the rule
    double openS = 30;           // first open period
    double backoff = 2.0;        // each further open (since last closed) multiplies the period by this
    double maxOpenS = 600;       // cap on any open period, 429s included
    double jitter = 0.1;         // open periods are spread by ± this fraction
    int halfOpenProbes = 1;      // calls let through at once while half-open
    int closeAfter = 1;          // probe successes that close the breaker
    double rateLimitOpenS = 5;   // open period after a 429 without Retry-After
    OutcomeSet failureOutcomes{Outcome::ServerError, Outcome::Timeout, Outcome::ConnectError, Outcome::AuthError,
                               Outcome::BadResponse};

    bool operator==(const BreakerPolicy&) const = default;
};

} // namespace fusebox
