#pragma once
// Presentation of engine values: state names and colours, numbers, times. One place, so every panel agrees.
#include "breaker/BreakerState.h"
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
QColor stateColor(fusebox::BreakerState state);
bool isManual(fusebox::BreakerState state);
// Worse states rank higher: open/forced_open > half_open > forced_closed > closed.
int stateSeverity(fusebox::BreakerState state);

QString percent(double fraction);     // "12.5 %"
QString millis(double ms);            // "340 ms", "2.4 s"
QString rate(double perSecond);       // "3.2/s"
QString countdown(std::optional<double> seconds); // "12 s", "1 m 05 s", "—"
QString clockTime(fusebox::WallTime at); // local "HH:mm:ss"

} // namespace console
