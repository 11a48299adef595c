#pragma once
// One colour per provider, the same in every chart: a provider keeps the colour it was first given for the whole
// session, in the order the engine lists providers. The colours avoid the breaker states' green, amber and red,
// so a provider's line is never read as a state.
#include <QColor>
#include <QHash>
#include <QString>
#include <QStringList>

class ProviderPalette {
public:
    // Gives each provider of `ids` a colour, in order, unless it has one already.
    static void assign(const QStringList& ids);
    // The provider's colour; a provider not seen before gets the next free one.
    static QColor colour(const QString& provider);

private:
    static QHash<QString, QColor>& map();
};
