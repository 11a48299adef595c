#include "ProviderPalette.h"

namespace {
// A qualitative palette, distinct from each other in colour and lightness (readable by most colour-blind eyes in
// pairs), with no pure green, amber or red.
const QColor kColours[] = {QColor(0x15, 0x65, 0xc0), QColor(0x00, 0x89, 0x7b), QColor(0x45, 0x27, 0xa0),
                           QColor(0xf5, 0x7c, 0x00), QColor(0x5d, 0x40, 0x37), QColor(0xd8, 0x1b, 0x60),
                           QColor(0x39, 0x49, 0xab), QColor(0x82, 0x77, 0x17), QColor(0x00, 0x83, 0x8f),
                           QColor(0x6a, 0x6a, 0x6a)};
constexpr int kColourCount = sizeof(kColours) / sizeof(kColours[0]);
} // namespace

QHash<QString, QColor>& ProviderPalette::map() {
    static QHash<QString, QColor> colours; // GUI thread only
    return colours;
}

void ProviderPalette::assign(const QStringList& ids) {
    for (const QString& id : ids) colour(id);
}

QColor ProviderPalette::colour(const QString& provider) {
    auto& colours = map();
    auto it = colours.constFind(provider);
    if (it != colours.constEnd()) return *it;
    // Past the palette's end colours repeat, a shade darker each round.
    const int n = static_cast<int>(colours.size());
    QColor c = kColours[n % kColourCount];
    if (n >= kColourCount) c = c.darker(100 + 30 * (n / kColourCount));
    colours.insert(provider, c);
    return c;
}
