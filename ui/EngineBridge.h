#pragma once
// The only place the console talks to the engine. It polls immutable snapshots on a timer (at most 10 Hz, so the
// console stays fluid at any request rate) and re-emits engine events as queued Qt signals on the GUI thread.
#include <QObject>
#include <QTimer>

#include "Engine.h"

#include <vector>

class EngineBridge : public QObject {
    Q_OBJECT
public:
    explicit EngineBridge(fusebox::Engine& engine, QObject* parent = nullptr);
    ~EngineBridge() override;

    const fusebox::EngineSnapshot& snapshot() const { return m_snapshot; }
    void setPollInterval(int ms) { m_timer.setInterval(ms); }

public slots:
    void refresh();
    void forceOpen(const QString& provider, const QString& reason);
    void forceClose(const QString& provider, const QString& reason);
    void reset(const QString& provider, const QString& reason);

signals:
    void snapshotUpdated();
    void eventReceived(const fusebox::Event& event);
    void commandFailed(const QString& message);

private:
    void reportIfFailed(const fusebox::CommandResult& result);

    fusebox::Engine& m_engine;
    fusebox::EngineSnapshot m_snapshot;
    QTimer m_timer;
    uint64_t m_subscription = 0;
};

Q_DECLARE_METATYPE(fusebox::Event)
