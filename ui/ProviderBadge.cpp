#include "ProviderBadge.h"

#include "Format.h"

ProviderBadge providerBadge(const fusebox::ProviderSnapshot& p) {
    const fusebox::ProviderHealth health = fusebox::judgeProvider(p, p.breaker.since);
    const QString state = console::stateName(p.breaker.state);
    const QString why = QString::fromStdString(health.why);
    switch (health.condition) {
    case fusebox::ProviderCondition::NoKey:
        return {"no key", console::conditionColor(health.condition),
                why + "\nEvery call to it fails (auth_error) until the key is set; breaker: " + state};
    case fusebox::ProviderCondition::FailingEveryCall:
        return {state + ", failing", console::conditionColor(health.condition), "The breaker admits, but " + why};
    default:
        // A 429 open is the provider asking for a pause, not an outage: its own words and colour (the card's
        // countdown then reads "retry after", the provider's Retry-After).
        if (console::isRateLimitOpen(p.breaker)) return {"rate limited", console::rateLimitColor(), why};
        return {state, console::stateColor(p.breaker.state), why};
    }
}
