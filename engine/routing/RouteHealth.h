#pragma once
// What a route's clients get right now, judged from a snapshot: ok, degraded (some targets refused or failing) or
// down (no target can answer), with the soonest retry. The console's header, routes panel and tray, and the admin
// API's state, all show this one judgement, so they can never disagree.
//
// A breaker state alone does not say it: a provider with no key is "closed" and fails every call, and a slow bleed
// can fail a quarter of the calls without ever opening the breaker. So each target is judged from its breaker, its
// key, its budget and what its calls did over the last 60 s.
#include "config/Config.h"
#include "core/Clock.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox {

struct ProviderSnapshot;
struct EngineSnapshot;

// How one provider serves, worst last.
enum class ProviderCondition {
    Serving,          // admits calls and they succeed
    Probing,          // half-open with a probe slot free: the next call tests it
    Failing,          // admits calls, but a good share of them failed over the last 60 s
    Refusing,         // open, forced open, half-open with every probe slot taken, or its daily budget is spent
    FailingEveryCall, // admits calls and every one of the last 60 s failed
    NoKey,            // no api_key: every call fails before it leaves (auth_error)
};

// A provider "fails" when at least this share of at least kJudgedCalls calls failed over the last 60 s. Lower than
// any sensible failure_rate on purpose: the breaker decides when to stop calling, this only says what clients see.
inline constexpr double kFailingErrorRate = 0.10;
inline constexpr uint64_t kJudgedCalls = 3;

struct ProviderHealth {
    ProviderCondition condition = ProviderCondition::Serving;
    std::string why;                   // "open, retry in 12 s", "no key: set OPENAI_API_KEY", "27 % of calls failed"
    std::optional<double> retryAfterS; // refusing: when it may admit again; none when it waits for an operator
    bool canAnswer() const;
};

ProviderHealth judgeProvider(const ProviderSnapshot& provider, WallTime now);
// "serving", "probing", "failing", "refusing", "failing_every_call", "no_key"
std::string_view providerConditionName(ProviderCondition condition);

enum class RouteState { Ok, Degraded, Down };
std::string_view routeStateName(RouteState state); // "ok", "degraded", "down"

struct TargetHealth {
    std::string provider;
    std::string model;
    ProviderHealth health;
};

struct RouteHealth {
    std::string route;
    RouteState state = RouteState::Ok;
    // Down only: the soonest any target may be tried again; none when every target waits for an operator or a key.
    std::optional<double> retryAfterS;
    std::string summary; // one line for a person: "sim-primary open, retry in 8 s" / "no target can answer; ..."
    std::vector<TargetHealth> targets;
};

RouteHealth judgeRoute(const RouteConfig& route, const std::vector<ProviderSnapshot>& providers, WallTime now);

// The whole proxy: the worst route, made at least degraded by any provider that fails every call or has no key
// (a client can still reach it as PROVIDER/MODEL, and it is a fallback nobody has).
struct OverallHealth {
    RouteState state = RouteState::Ok;
    std::string summary; // "all routes ok" / "route default down: ..." / "nokey has no key"
    std::vector<RouteHealth> routes;
};

OverallHealth judgeOverall(const EngineSnapshot& snapshot);

} // namespace fusebox
