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
    double failureRate = 0; // breaker window failures / calls, 0..1
    double p95Ms = 0;
    double requestsPerSecond = 0;
    double inputTokens = 0;  // totals since start
    double outputTokens = 0;
    std::optional<double> spendUsd; // today's (UTC) priced spend of the provider
};

class ProviderHistory : public QObject {
    Q_OBJECT
public:
    static constexpr qint64 kSpanMs = 15 * 60 * 1000;
    static constexpr qint64 kMinStepMs = 1000;

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
