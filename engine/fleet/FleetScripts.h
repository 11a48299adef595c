#pragma once
// The fleet's Lua scripts (run with EVALSHA, loaded again on NOSCRIPT). Each takes its time from
// redis.call('TIME') — never from a replica's clock, which may be skewed — and answers remaining milliseconds
// rather than instants, so a replica turns them into its own steady clock's deadlines.
//
// Key layout, every key under PREFIX (README "Running a fleet"):
//   PREFIX:epoch                  string  random token; missing means Redis lost its data (seed it again)
//   PREFIX:gen                    int     the fleet's generation counter; every verdict and route takes the next
//   PREFIX:verdicts               hash    provider -> verdict JSON {state, until_ms, gen, opens, origin, reason, action, at_ms, instance}
//   PREFIX:routes                 hash    route -> {targets, gen, origin, at_ms}
//   PREFIX:replicas               hash    replica -> "SEEN_MS INFO_JSON"; entries older than 30 s are removed
//   PREFIX:window:PROVIDER        hash    replica -> "SEEN_MS CALLS FAILURES SLOW" (its window's totals)
//   PREFIX:spend:PROVIDER:DAY     hash    replica -> USD counted toward today's budget (DAY = unix day, UTC)
//   PREFIX:probe:PROVIDER         string  the replica holding the half-open probe lease (SET NX PX)
//   PREFIX:events                 channel verdicts and routes as they are published
// epoch, gen, verdicts and routes expire 24 h after the fleet's last sync; window keys after their window; spend
// keys after 2 days; the probe lease after the provider's first_byte timeout; replicas after 60 s.
#include <string>

namespace fusebox::fleet {

struct FleetScript {
    const char* name;
    const char* source;
};

// ARGV: prefix, replica, replica info JSON, provider count, then per provider: id, window ms, calls, failures,
// slow, budget USD today. Records this replica's heartbeat, window totals and spend; answers one JSON text:
// {now_ms, epoch, replicas: {id: {info, age_ms}}, providers: {id: {calls, failures, slow, spend, verdict,
// remaining_ms, probe}}, routes: {name: JSON}} where the counts and spend are the OTHER replicas' sums.
extern const FleetScript kSyncScript;
// ARGV: prefix, provider, state, remaining ms, opens, origin, reason, action, clear (0/1), instance.
// Stores and publishes a verdict with the next generation; answers that generation.
extern const FleetScript kVerdictScript;
// ARGV: prefix, route, targets JSON, origin, instance. Stores and publishes a route order; answers its generation.
extern const FleetScript kRouteScript;
// KEYS: the probe key; ARGV: replica, lease ms. Extends the lease when this replica holds it; answers 1, else 0.
extern const FleetScript kRenewProbeScript;

} // namespace fusebox::fleet
