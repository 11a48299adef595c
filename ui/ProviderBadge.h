#pragma once
// The state badge of a provider card: the breaker's state in words and colour, except where the breaker's state
// would mislead. A provider with no key is "closed" yet fails every call, so it shows "no key"; one whose breaker
// admits while every call of the last 60 s failed shows "closed, failing" in red.
#include "Snapshot.h"

#include <QColor>
#include <QString>

struct ProviderBadge {
    QString text;
    QColor colour;
    QString tooltip;
};

ProviderBadge providerBadge(const fusebox::ProviderSnapshot& provider);
