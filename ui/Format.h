#pragma once
// Presentation of engine values: state names and colours, numbers, times. One place, so every panel agrees.
#include "breaker/BreakerState.h"
#include "breaker/CircuitBreaker.h"
#include "core/Clock.h"
#include "routing/RouteHealth.h"

#include <QColor>
#include <QString>

#include <optional>

namespace console {

// Words for people: "closed", "open", "half-open, probing", "forced open", "forced closed" (the admin API and the
// event log's raw transitions keep the snake_case names scripts match on).
QString stateName(fusebox::BreakerState state);
// What clients get: ok green, degraded amber, down red.
QColor healthColor(fusebox::RouteState state);
QColor conditionColor(fusebox::ProviderCondition condition);
// The same for a state as the engine names it in events ("half_open"); unknown names pass through.
QString stateName(const std::string& engineName);
// An open breaker whose open period is a provider's 429 (Retry-After), not a failure trip. The engine words the
// reason of such an open "rate limited (429), ..." (breaker/BreakerReasons.cpp).
bool isRateLimitOpen(const fusebox::BreakerSnapshot& breaker);
QColor rateLimitColor();
// An outcome class in words: "rate limited", "short-circuited", "client error".
QString outcomeName(const QString& engineName);
// A --demo drill kind in words: "Outage (503)", "429 storm", "Slow bleed", "Hang", "Clear".
QString drillName(const QString& kind);
QColor stateColor(fusebox::BreakerState state);
bool isManual(fusebox::BreakerState state);
// Worse states rank higher: open/forced_open > half_open > forced_closed > closed.
int stateSeverity(fusebox::BreakerState state);

QString percent(double fraction);     // "12.5 %"
QString millis(double ms);            // "340 ms", "2.4 s"
QString rate(double perSecond);       // "3.2/s"
QString countdown(std::optional<double> seconds); // "12 s", "1 m 05 s", "—"
QString clockTime(fusebox::WallTime at); // local "HH:mm:ss"
// Local date, time and zone: "2026-11-30 14:05:09 CET" (an event log spans days and restarts).
QString dateTime(fusebox::WallTime at);
// ISO 8601 UTC with milliseconds, "2026-11-30T13:05:09.123Z": what copies and exports carry.
QString isoUtc(fusebox::WallTime at);

} // namespace console
