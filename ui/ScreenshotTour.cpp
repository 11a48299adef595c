#include "ScreenshotTour.h"

#include "MainWindow.h"

#include <QApplication>
#include <QHash>
#include <QImage>
#include <QLabel>
#include <QTabWidget>
#include <QTimer>

#include <algorithm>
#include <cstdio>

namespace {
const char* const kSims[] = {"sim-primary", "sim-backup"};

// The 256 most frequent colours as the palette, every pixel mapped to the nearest: a window is mostly flat
// colours, so the picture looks the same at about half the bytes (no pngquant or ImageMagick needed).
QImage toPalette(const QImage& image) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB32);
    QHash<QRgb, int> counts;
    for (int y = 0; y < rgb.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(rgb.constScanLine(y));
        for (int x = 0; x < rgb.width(); ++x) ++counts[line[x]];
    }
    QList<QPair<int, QRgb>> byCount;
    for (auto it = counts.constBegin(); it != counts.constEnd(); ++it) byCount.append({it.value(), it.key()});
    std::sort(byCount.begin(), byCount.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    // The most frequent first; then, so that a small legend swatch keeps its hue, any colour covering a few dozen
    // pixels that is far from every colour chosen so far.
    QList<QRgb> palette;
    for (int i = 0; i < byCount.size() && i < 160; ++i) palette << byCount[i].second;
    const auto distance = [](QRgb a, QRgb b) {
        return std::abs(qRed(a) - qRed(b)) + std::abs(qGreen(a) - qGreen(b)) + std::abs(qBlue(a) - qBlue(b));
    };
    for (int i = 160; i < byCount.size() && palette.size() < 256 && byCount[i].first >= 12; ++i) {
        int nearest = 1 << 30;
        for (QRgb c : palette) nearest = std::min(nearest, distance(c, byCount[i].second));
        if (nearest > 48) palette << byCount[i].second;
    }
    for (int i = 160; i < byCount.size() && palette.size() < 256; ++i)
        if (!palette.contains(byCount[i].second)) palette << byCount[i].second;
    return rgb.convertToFormat(QImage::Format_Indexed8, palette, Qt::ThresholdDither);
}
}

void ScreenshotTour::startFromEnvironment(MainWindow& window) {
    const QString dir = qEnvironmentVariable("FUSEBOX_SCREENSHOT_DIR");
    if (dir.isEmpty()) return;
    const QStringList wh = qEnvironmentVariable("FUSEBOX_SCREENSHOT_SIZE", "1400x900").split('x');
    const QSize size(wh.value(0).toInt(), wh.value(1).toInt());
    new ScreenshotTour(window, dir, size.isValid() ? size : QSize(1400, 900));
}

ScreenshotTour::ScreenshotTour(MainWindow& window, QString dir, QSize size)
    : QObject(&window), m_window(window), m_dir(std::move(dir)), m_size(size) {
    m_window.showNormal();
    m_window.resize(m_size);
    const int idleS = qEnvironmentVariableIntValue("FUSEBOX_SCREENSHOT_IDLE_S");
    QTimer::singleShot((idleS > 0 ? idleS : 20) * 1000, this, &ScreenshotTour::idle);
}

bool ScreenshotTour::save(const QString& scene) {
    const QString path = QString("%1/console-%2x%3-%4.png").arg(m_dir).arg(m_size.width()).arg(m_size.height()).arg(scene);
    const bool saved = toPalette(m_window.grab().toImage()).save(path, "PNG", 0); // quality 0: strongest compression
    std::fprintf(saved ? stdout : stderr, "fusebox: %s %s\n", saved ? "saved a screenshot to" : "cannot write",
                 qPrintable(path));
    std::fflush(stdout);
    m_ok = m_ok && saved;
    return saved;
}

void ScreenshotTour::idle() {
    save("idle");
    // Both sims fail every call: the demo route has no target left, as in a real double outage.
    for (const char* sim : kSims) m_window.runDrill(sim, "outage");
    waitForOutage(60);
}

void ScreenshotTour::waitForOutage(int triesLeft) {
    bool bothOpen = true;
    for (const char* sim : kSims) {
        auto* card = m_window.card(sim);
        bothOpen = bothOpen && card && card->findChild<QLabel*>("stateLabel")->text() == "open";
    }
    // A few seconds more once both are open, so the charts show the refusals.
    if (bothOpen || triesLeft == 0) QTimer::singleShot(6000, this, &ScreenshotTour::outage);
    else QTimer::singleShot(500, this, [this, triesLeft] { waitForOutage(triesLeft - 1); });
}

void ScreenshotTour::outage() {
    save("outage");
    if (auto* tabs = m_window.findChild<QTabWidget*>("mainTabs")) tabs->setCurrentIndex(1);
    QTimer::singleShot(1500, this, &ScreenshotTour::spend);
}

void ScreenshotTour::spend() {
    save("spend");
    QApplication::exit(m_ok ? 0 : 1);
}
