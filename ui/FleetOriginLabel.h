#pragma once
// A provider card's line "tripped by replica api-2" when its state is a verdict another replica of the fleet
// published; hidden when the state was decided here.
#include "breaker/CircuitBreaker.h"

#include <QLabel>

class FleetOriginLabel : public QLabel {
    Q_OBJECT
public:
    explicit FleetOriginLabel(QWidget* parent = nullptr);
    void showOrigin(const fusebox::BreakerSnapshot& breaker);
};
