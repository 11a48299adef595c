#include "ScreenshotTour.h"

#include "MainWindow.h"

#include <QApplication>
#include <QLabel>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>

namespace {
const char* const kSims[] = {"sim-primary", "sim-backup"};
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
    const bool saved = m_window.grab().save(path, "PNG", 0); // quality 0: the strongest compression
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
