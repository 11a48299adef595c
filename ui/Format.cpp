#include "Format.h"

#include <QDateTime>

#include <cmath>

namespace console {

using fusebox::BreakerState;

QString stateName(BreakerState state) {
    switch (state) {
    case BreakerState::Closed: return QStringLiteral("closed");
    case BreakerState::Open: return QStringLiteral("open");
    case BreakerState::HalfOpen: return QStringLiteral("half-open, probing");
    case BreakerState::ForcedOpen: return QStringLiteral("forced open");
    case BreakerState::ForcedClosed: return QStringLiteral("forced closed");
    }
    return QString::fromUtf8(fusebox::breakerStateName(state));
}

QColor healthColor(fusebox::RouteState state) {
    switch (state) {
    case fusebox::RouteState::Ok: return stateColor(BreakerState::Closed);
    case fusebox::RouteState::Degraded: return stateColor(BreakerState::HalfOpen);
    case fusebox::RouteState::Down: return stateColor(BreakerState::Open);
    }
    return Qt::gray;
}

QColor conditionColor(fusebox::ProviderCondition condition) {
    using fusebox::ProviderCondition;
    switch (condition) {
    case ProviderCondition::Serving: return stateColor(BreakerState::Closed);
    case ProviderCondition::Probing:
    case ProviderCondition::Failing: return QColor(0xb2, 0x6a, 0x00); // amber, dark enough to read as text
    case ProviderCondition::Refusing:
    case ProviderCondition::FailingEveryCall: return stateColor(BreakerState::Open);
    case ProviderCondition::NoKey: return QColor(0x61, 0x61, 0x61);
    }
    return Qt::gray;
}

QString stateName(const std::string& engineName) {
    if (auto state = fusebox::breakerStateFromName(engineName)) return stateName(*state);
    return QString::fromStdString(engineName);
}

bool isRateLimitOpen(const fusebox::BreakerSnapshot& breaker) {
    return breaker.state == BreakerState::Open && breaker.reason.rfind("rate limited", 0) == 0;
}

QColor rateLimitColor() { return QColor(0x8e, 0x24, 0xaa); } // the window chart's "rate limited" purple

QString outcomeName(const QString& engineName) {
    if (engineName == "short_circuited") return QStringLiteral("short-circuited");
    return QString(engineName).replace('_', ' ');
}

QString drillName(const QString& kind) {
    if (kind == "outage") return QStringLiteral("Outage (503)");
    if (kind == "rate_limit") return QStringLiteral("429 storm");
    if (kind == "slow") return QStringLiteral("Slow bleed");
    if (kind == "hang") return QStringLiteral("Hang");
    if (kind == "clear") return QStringLiteral("Clear");
    return kind;
}

QColor stateColor(BreakerState state) {
    switch (state) {
    case BreakerState::Closed: return QColor(0x2e, 0x9d, 0x4f);
    case BreakerState::HalfOpen: return QColor(0xe0, 0xa1, 0x00);
    case BreakerState::Open:
    case BreakerState::ForcedOpen: return QColor(0xd3, 0x2f, 0x2f);
    case BreakerState::ForcedClosed: return QColor(0xef, 0x6c, 0x00);
    }
    return Qt::gray;
}

bool isManual(BreakerState state) { return state == BreakerState::ForcedOpen || state == BreakerState::ForcedClosed; }

int stateSeverity(BreakerState state) {
    switch (state) {
    case BreakerState::Closed: return 0;
    case BreakerState::ForcedClosed: return 1;
    case BreakerState::HalfOpen: return 2;
    case BreakerState::Open:
    case BreakerState::ForcedOpen: return 3;
    }
    return 0;
}

QString percent(double fraction) { return QString::number(fraction * 100.0, 'f', fraction < 0.1 ? 1 : 0) + " %"; }

QString millis(double ms) {
    if (ms < 1) return QStringLiteral("<1 ms");
    if (ms < 1000) return QString::number(std::lround(ms)) + " ms";
    return QString::number(ms / 1000.0, 'f', 1) + " s";
}

QString rate(double perSecond) { return QString::number(perSecond, 'f', 1) + "/s"; }

QString countdown(std::optional<double> seconds) {
    if (!seconds) return QStringLiteral("—");
    const long s = std::max(0L, static_cast<long>(std::ceil(*seconds)));
    if (s < 60) return QString::number(s) + " s";
    return QString("%1 m %2 s").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

QString clockTime(fusebox::WallTime at) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
    return QDateTime::fromMSecsSinceEpoch(ms).toString("HH:mm:ss");
}

QString dateTime(fusebox::WallTime at) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
    const QDateTime local = QDateTime::fromMSecsSinceEpoch(ms);
    return local.toString("yyyy-MM-dd HH:mm:ss ") + local.timeZoneAbbreviation();
}

QString isoUtc(fusebox::WallTime at) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

} // namespace console
