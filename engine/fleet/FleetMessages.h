#pragma once
// The fleet's JSON texts as they come back from Redis: verdicts, route orders, the sync script's answer and the
// channel's messages. Another replica (or anyone with access to Redis) wrote them, so they are read as untrusted
// JSON: a text that does not fit is dropped, never an exception on the sync thread.
#include "breaker/BreakerState.h"
#include "config/Config.h"
#include "fleet/FleetStatus.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox::fleet {

struct VerdictMessage {
    std::string provider;
    BreakerState state = BreakerState::Closed;
    int64_t untilMs = 0;     // Redis time the open period ends; 0: none
    int64_t remainingMs = 0; // what was left of it when written (at atMs)
    uint64_t generation = 0;
    int opens = 0;
    std::string origin;
    std::string reason;
    std::string action; // force_open, force_close, reset: an operator's command; empty: a breaker's own verdict
    int64_t atMs = 0;   // Redis time it was written
    std::string instance; // the process that wrote it
};

struct RouteMessage {
    std::string route;
    std::vector<RouteTarget> targets;
    uint64_t generation = 0;
    std::string origin;
    int64_t atMs = 0;
    std::string instance;
};

struct ProviderSync {
    uint32_t calls = 0, failures = 0, slow = 0; // the other replicas' window totals
    double spendUsd = 0;                        // the other replicas' spend toward today's budget
    std::optional<VerdictMessage> verdict;
    int64_t remainingMs = 0; // of the verdict's open period, by Redis's clock now
    std::string probeHolder;
};

struct SyncAnswer {
    int64_t nowMs = 0;
    std::string epoch;
    std::vector<FleetReplica> replicas;
    std::map<std::string, ProviderSync> providers;
    std::vector<RouteMessage> routes;
};

std::optional<VerdictMessage> parseVerdict(std::string_view text);
std::optional<RouteMessage> parseRoute(std::string_view text);
std::optional<SyncAnswer> parseSyncAnswer(std::string_view text);
// A message on PREFIX:events: {"kind": "verdict"|"route", "body": TEXT}; at most one of the two is set.
struct ChannelMessage {
    std::optional<VerdictMessage> verdict;
    std::optional<RouteMessage> route;
};
ChannelMessage parseChannelMessage(std::string_view text);

std::string targetsJson(const std::vector<RouteTarget>& targets);
// {"listen": ..., "version": ...}: what other replicas show of this one.
std::string replicaInfoJson(const std::string& listen, const std::string& version);

} // namespace fusebox::fleet
