#include "FleetStatusLabel.h"

FleetStatusLabel::FleetStatusLabel(QWidget* parent) : QLabel(parent) {
    setObjectName("fleetStatus");
    setVisible(false);
}

void FleetStatusLabel::showFleet(const fusebox::FleetStatus& fleet) {
    setVisible(fleet.enabled);
    if (!fleet.enabled) return;
    const bool connected = fleet.redis == fusebox::RedisLink::Connected;
    // While degraded this replica cannot see the others: say so rather than show a stale count.
    const QString replicas = connected ? (fleet.replicas.size() == 1 ? QString("1 replica")
                                                                      : QString("%1 replicas").arg(fleet.replicas.size()))
                                       : QString("replica %1").arg(QString::fromStdString(fleet.replica));
    setText(replicas + QString::fromUtf8(" · Redis ") + fusebox::redisLinkName(fleet.redis));
    QStringList ids;
    for (const auto& r : fleet.replicas) ids << QString::fromStdString(r.id);
    setToolTip(connected ? "this replica: " + QString::fromStdString(fleet.replica) + "\nfleet: " + ids.join(", ")
                         : "Redis is unavailable: this replica serves with its own breakers and the last fleet "
                           "verdicts it saw, and rejoins when Redis answers.");
    setProperty("degraded", !connected);
    setStyleSheet(connected ? "QLabel { color: #2e7d32; font-weight: bold; }"
                            : "QLabel { color: #e65100; font-weight: bold; }"); // amber
}
