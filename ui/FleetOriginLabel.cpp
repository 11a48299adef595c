#include "FleetOriginLabel.h"

FleetOriginLabel::FleetOriginLabel(QWidget* parent) : QLabel(parent) {
    setObjectName("fleetOriginLabel");
    setStyleSheet("QLabel { color: #555; font-style: italic; }");
    setVisible(false);
}

void FleetOriginLabel::showOrigin(const fusebox::BreakerSnapshot& b) {
    setVisible(!b.originReplica.empty());
    if (b.originReplica.empty()) return;
    const QString replica = QString::fromStdString(b.originReplica);
    using fusebox::BreakerState;
    switch (b.state) {
    case BreakerState::Open: setText("tripped by replica " + replica); break;
    case BreakerState::ForcedOpen:
    case BreakerState::ForcedClosed: setText("set by an operator on replica " + replica); break;
    default: setText("closed by replica " + replica); break;
    }
}
