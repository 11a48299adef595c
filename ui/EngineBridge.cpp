#include "EngineBridge.h"

#include <QMetaObject>
#include <QPointer>

EngineBridge::EngineBridge(fusebox::Engine& engine, QObject* parent) : QObject(parent), m_engine(engine) {
    qRegisterMetaType<fusebox::Event>();
    m_timer.setInterval(100); // 10 Hz: the ceiling ARCHITECTURE.md sets for snapshot polling
    connect(&m_timer, &QTimer::timeout, this, &EngineBridge::refresh);
    m_timer.start();
    // NOTE: the engine publishes on its own threads, possibly under a breaker's lock; the sink only queues the
    // event onto the GUI thread, which is all an EventBus sink may do.
    QPointer<EngineBridge> self(this);
    m_subscription = m_engine.events().subscribe([self](const fusebox::Event& event) {
        if (self.isNull()) return;
        QMetaObject::invokeMethod(
            self.data(), [self, event] { if (self) emit self->eventReceived(event); }, Qt::QueuedConnection);
    });
    refresh();
}

EngineBridge::~EngineBridge() { m_engine.events().unsubscribe(m_subscription); }

std::vector<fusebox::Event> EngineBridge::eventHistory() const {
    // The last 24 hours of earlier runs from the journal, then this run's events from the bus.
    constexpr auto kDay = std::chrono::hours(24);
    std::vector<fusebox::Event> events = m_engine.earlierEvents(m_engine.clock().wallNow() - kDay);
    for (auto& event : m_engine.events().history()) events.push_back(std::move(event));
    return events;
}

bool EngineBridge::demoMode() const { return m_engine.demo() != nullptr; }

QString EngineBridge::configPath() const { return QString::fromStdString(m_engine.config().sourcePath); }

void EngineBridge::refresh() {
    m_snapshot = m_engine.snapshot();
    emit snapshotUpdated();
}

bool EngineBridge::report(const fusebox::CommandResult& result) {
    if (!result.ok) emit commandFailed(QString::fromStdString(result.error));
    else if (!result.warning.empty()) emit commandWarning(QString::fromStdString(result.warning));
    refresh();
    return result.ok;
}

bool EngineBridge::forceOpen(const QString& provider, const QString& reason) {
    return report(m_engine.forceOpen(provider.toStdString(), reason.toStdString()));
}

bool EngineBridge::forceClose(const QString& provider, const QString& reason) {
    return report(m_engine.forceClose(provider.toStdString(), reason.toStdString()));
}

bool EngineBridge::reset(const QString& provider, const QString& reason) {
    return report(m_engine.reset(provider.toStdString(), reason.toStdString()));
}

bool EngineBridge::setRoute(const QString& route, const std::vector<fusebox::RouteTarget>& targets,
                            const QString& reason) {
    return report(m_engine.setRoute(route.toStdString(), targets, reason.toStdString()));
}

bool EngineBridge::drill(const QString& provider, const QString& kind) {
    return report(m_engine.drill(provider.toStdString(), kind.toStdString()));
}

fusebox::SpendReport EngineBridge::spendReport(fusebox::SpendBucket bucket, qint64 sinceUnix) const {
    return m_engine.spendReport(bucket, fusebox::WallTime{std::chrono::seconds{sinceUnix}});
}

std::string EngineBridge::attemptsCsv(qint64 sinceUnix, qint64 untilUnix) const {
    return m_engine.attemptsCsv(fusebox::WallTime{std::chrono::seconds{sinceUnix}},
                                fusebox::WallTime{std::chrono::seconds{untilUnix}});
}
