#pragma once
// The last 15 minutes of each provider's figures, accumulated in the console from snapshots (one sample a second
// at most), for the trend and spend charts. The engine keeps no such history for the UI.
#include "Snapshot.h"

#include <QHash>
#include <QObject>
#include <QString>

#include <deque>

struct HistoryPoint {
    qint64 msecs = 0; // wall time, ms since the epoch
    // Of the calls to the provider in the last kRateSpanMs (refusals included), the share that failed or was
    // refused, 0..1: each interval's own figure, so the line is high during an incident and falls at recovery.
    // (The breaker window's failures / calls lags by its whole window, and while the breaker refuses it holds
    // only the probes, so it read low through an outage and peaked at the recovering probe.)
    double failureRate = 0;
    uint64_t attempts = 0; // totals since start, to take differences from
    uint64_t errors = 0;
    uint64_t refused = 0;
    double p95Ms = 0;
    double requestsPerSecond = 0;
    double inputTokens = 0;  // totals since start
    double outputTokens = 0;
    std::optional<double> spendUsd; // today's (UTC) priced spend of the provider
    double wastedUsd = 0;           // of which the answer did not reach the client whole
};

class ProviderHistory : public QObject {
    Q_OBJECT
public:
    static constexpr qint64 kSpanMs = 15 * 60 * 1000;
    static constexpr qint64 kMinStepMs = 1000;
    static constexpr qint64 kRateSpanMs = 10'000;

    explicit ProviderHistory(QObject* parent = nullptr) : QObject(parent) {}
    // Adds a sample per provider when at least kMinStepMs passed since the last one; drops what is too old.
    // Returns true when a sample was added (so charts redraw at most once a second).
    bool add(const fusebox::EngineSnapshot& snapshot);
    const std::deque<HistoryPoint>& points(const QString& provider) const;
    QStringList providers() const { return m_order; }

signals:
    void appended();

private:
    QHash<QString, std::deque<HistoryPoint>> m_points;
    QStringList m_order;
    qint64 m_last = 0;
};
