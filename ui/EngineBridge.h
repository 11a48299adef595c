#pragma once
// The only place the console talks to the engine. It polls immutable snapshots on a timer (at most 10 Hz, so the
// console stays fluid at any request rate) and re-emits engine events as queued Qt signals on the GUI thread.
#include <QObject>
#include <QTimer>

#include <algorithm>

#include "Engine.h"

#include <vector>

class EngineBridge : public QObject {
    Q_OBJECT
public:
    explicit EngineBridge(fusebox::Engine& engine, QObject* parent = nullptr);
    ~EngineBridge() override;

    const fusebox::EngineSnapshot& snapshot() const { return m_snapshot; }
    // Spend history and the attempts CSV, read from the engine's journal (unix seconds).
    fusebox::SpendReport spendReport(fusebox::SpendBucket bucket, qint64 sinceUnix) const;
    std::string attemptsCsv(qint64 sinceUnix, qint64 untilUnix) const;
    // Never faster than 10 Hz, whatever is asked.
    void setPollInterval(int ms) { m_timer.setInterval(std::max(ms, 100)); }
    int pollInterval() const { return m_timer.interval(); }
    // The events of the last 24 hours, oldest first (to seed the event log): earlier runs' from the journal, then
    // those this run published before the console subscribed.
    std::vector<fusebox::Event> eventHistory() const;
    // True when --demo providers exist, so drills can reach them.
    bool demoMode() const;
    // The config file the engine loaded (empty when it came from memory), for the console's Open / Show in folder.
    QString configPath() const;

public slots:
    void refresh();
    bool forceOpen(const QString& provider, const QString& reason);
    bool forceClose(const QString& provider, const QString& reason);
    bool reset(const QString& provider, const QString& reason);
    // Applies a route's new fallback order at once; emits commandWarning when it could not be persisted.
    bool setRoute(const QString& route, const std::vector<fusebox::RouteTarget>& targets,
                  const QString& reason = QStringLiteral("reordered from the console"));
    bool drill(const QString& provider, const QString& kind);

signals:
    void snapshotUpdated();
    void eventReceived(const fusebox::Event& event);
    void commandFailed(const QString& message);
    void commandWarning(const QString& message);

private:
    bool report(const fusebox::CommandResult& result);

    fusebox::Engine& m_engine;
    fusebox::EngineSnapshot m_snapshot;
    QTimer m_timer;
    uint64_t m_subscription = 0;
};

Q_DECLARE_METATYPE(fusebox::Event)
