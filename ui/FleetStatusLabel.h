#pragma once
// The console header's fleet line: "3 replicas · Redis connected", amber while Redis is unavailable. Hidden when
// no fleet is configured (redis.url empty).
#include "fleet/FleetStatus.h"

#include <QLabel>

class FleetStatusLabel : public QLabel {
    Q_OBJECT
public:
    explicit FleetStatusLabel(QWidget* parent = nullptr);
    void showFleet(const fusebox::FleetStatus& fleet);
};
