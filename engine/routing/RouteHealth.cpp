#include "routing/RouteHealth.h"

#include "Snapshot.h"

#include <algorithm>
#include <cmath>

namespace fusebox {

namespace {

std::string secondsText(double seconds) {
    const long s = std::max(0L, static_cast<long>(std::ceil(seconds)));
    if (s < 60) return std::to_string(s) + " s";
    const long rest = s % 60;
    return std::to_string(s / 60) + " m " + (rest < 10 ? "0" : "") + std::to_string(rest) + " s";
}

std::string percentText(double fraction) { return std::to_string(std::lround(fraction * 100.0)) + " %"; }

int severity(RouteState state) { return static_cast<int>(state); }

std::optional<double> sooner(std::optional<double> a, std::optional<double> b) {
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
}

} // namespace

bool ProviderHealth::canAnswer() const {
    return condition == ProviderCondition::Serving || condition == ProviderCondition::Probing ||
           condition == ProviderCondition::Failing;
}

ProviderHealth judgeProvider(const ProviderSnapshot& p, WallTime) {
    if (!p.hasKey) return {ProviderCondition::NoKey, "no key: " + p.keyHint, std::nullopt};
    const BreakerSnapshot& b = p.breaker;
    switch (b.state) {
    case BreakerState::ForcedOpen:
        return {ProviderCondition::Refusing, "forced open until an operator releases it", std::nullopt};
    case BreakerState::Open:
        return {ProviderCondition::Refusing, "open, retry in " + secondsText(b.retryAfterS.value_or(0)), b.retryAfterS};
    case BreakerState::HalfOpen:
        // With every probe slot taken, everyone else is refused until the probe answers.
        if (b.retryAfterS && *b.retryAfterS > 0)
            return {ProviderCondition::Refusing, "half-open, probe in flight", b.retryAfterS};
        return {ProviderCondition::Probing, "half-open, the next call probes it", std::nullopt};
    case BreakerState::Closed:
    case BreakerState::ForcedClosed: break;
    }
    if (p.budgetRefusal)
        return {ProviderCondition::Refusing, p.budgetRefusal->reason + ", retry in " + secondsText(p.budgetRefusal->retryAfterS),
                p.budgetRefusal->retryAfterS};
    const uint64_t calls = p.figures.recentCalls;
    if (calls >= kJudgedCalls) {
        const auto failed = static_cast<uint64_t>(std::llround(p.figures.errorRate * static_cast<double>(calls)));
        if (failed >= calls)
            return {ProviderCondition::FailingEveryCall,
                    "every call failed over the last 60 s (" + std::to_string(calls) + " of " + std::to_string(calls) + ")",
                    std::nullopt};
        if (p.figures.errorRate + 1e-9 >= kFailingErrorRate)
            return {ProviderCondition::Failing,
                    percentText(p.figures.errorRate) + " of calls failed over the last 60 s (" + std::to_string(failed) +
                        " of " + std::to_string(calls) + ")",
                    std::nullopt};
    }
    return {ProviderCondition::Serving, "serving", std::nullopt};
}

std::string_view providerConditionName(ProviderCondition condition) {
    switch (condition) {
    case ProviderCondition::Serving: return "serving";
    case ProviderCondition::Probing: return "probing";
    case ProviderCondition::Failing: return "failing";
    case ProviderCondition::Refusing: return "refusing";
    case ProviderCondition::FailingEveryCall: return "failing_every_call";
    case ProviderCondition::NoKey: return "no_key";
    }
    return "serving";
}

std::string_view routeStateName(RouteState state) {
    switch (state) {
    case RouteState::Ok: return "ok";
    case RouteState::Degraded: return "degraded";
    case RouteState::Down: return "down";
    }
    return "ok";
}

RouteHealth judgeRoute(const RouteConfig& route, const std::vector<ProviderSnapshot>& providers, WallTime now) {
    RouteHealth out;
    out.route = route.name;
    bool anyCanAnswer = false, allServing = true;
    std::string problems;
    for (const auto& target : route.targets) {
        TargetHealth t{target.provider, target.model, {}};
        const auto found = std::find_if(providers.begin(), providers.end(),
                                        [&](const ProviderSnapshot& p) { return p.id == target.provider; });
        if (found == providers.end())
            t.health = {ProviderCondition::Refusing, "not a configured provider", std::nullopt};
        else
            t.health = judgeProvider(*found, now);
        anyCanAnswer = anyCanAnswer || t.health.canAnswer();
        if (t.health.condition != ProviderCondition::Serving) {
            allServing = false;
            problems += (problems.empty() ? "" : "; ") + target.provider + " (" + t.health.why + ")";
        }
        if (!t.health.canAnswer()) out.retryAfterS = sooner(out.retryAfterS, t.health.retryAfterS);
        out.targets.push_back(std::move(t));
    }
    if (!anyCanAnswer) {
        out.state = RouteState::Down;
        out.summary = "no target can answer: " + problems + "; " +
                      (out.retryAfterS ? "soonest retry in " + secondsText(*out.retryAfterS)
                                       : std::string("waits for an operator or a key"));
        return out;
    }
    out.retryAfterS.reset(); // only a route that cannot answer has a retry to wait for
    if (!allServing) {
        out.state = RouteState::Degraded;
        out.summary = problems;
        return out;
    }
    out.summary = route.targets.size() == 1 ? "its target is serving"
                                            : "all " + std::to_string(route.targets.size()) + " targets serving";
    return out;
}

OverallHealth judgeOverall(const EngineSnapshot& snapshot) {
    OverallHealth out;
    std::vector<std::string> down, degraded, providers;
    std::optional<double> soonest;
    for (const auto& route : snapshot.routes) {
        RouteHealth health = judgeRoute(route, snapshot.providers, snapshot.takenAt);
        if (severity(health.state) > severity(out.state)) out.state = health.state;
        if (health.state == RouteState::Down) {
            down.push_back(route.name);
            soonest = sooner(soonest, health.retryAfterS);
        } else if (health.state == RouteState::Degraded) {
            degraded.push_back(route.name);
        }
        out.routes.push_back(std::move(health));
    }
    // A provider that fails every call is a problem even when no route leans on it right now.
    for (const auto& p : snapshot.providers) {
        const ProviderHealth health = judgeProvider(p, snapshot.takenAt);
        if (health.condition != ProviderCondition::NoKey && health.condition != ProviderCondition::FailingEveryCall)
            continue;
        if (out.state == RouteState::Ok) out.state = RouteState::Degraded;
        providers.push_back(p.id + (health.condition == ProviderCondition::NoKey ? " has no key" : " fails every call"));
    }
    const auto join = [](const std::vector<std::string>& names) {
        std::string text;
        for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
        return text;
    };
    std::vector<std::string> parts;
    if (!down.empty())
        parts.push_back((down.size() == 1 ? "route " : "routes ") + join(down) + " down" +
                        (soonest ? " (retry in " + secondsText(*soonest) + ")" : ""));
    if (!degraded.empty()) {
        std::string part = (degraded.size() == 1 ? "route " : "routes ") + join(degraded) + " degraded";
        // One route: say why right here, the header has room for one reason.
        if (degraded.size() == 1)
            for (const auto& r : out.routes)
                if (r.route == degraded.front()) part += ": " + r.summary;
        parts.push_back(part);
    }
    if (!providers.empty()) parts.push_back(join(providers));
    std::string summary;
    for (const auto& part : parts) summary += (summary.empty() ? "" : "; ") + part;
    out.summary = summary.empty() ? (snapshot.routes.empty() ? "no routes" : "all routes ok") : summary;
    return out;
}

} // namespace fusebox
