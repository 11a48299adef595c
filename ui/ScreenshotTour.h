#pragma once
// `scripts/screenshot`'s tour of the console (--demo only), driven by the environment so the product has no
// flag for it: FUSEBOX_SCREENSHOT_DIR=DIR and FUSEBOX_SCREENSHOT_SIZE=WxH. The window takes that size, then saves
//   DIR/console-WxH-idle.png    the demo serving normally (after FUSEBOX_SCREENSHOT_IDLE_S, default 20 s),
//   DIR/console-WxH-outage.png  both simulated providers in an outage drill, once both breakers are open,
//   DIR/console-WxH-spend.png   the Spend tab in that incident,
// and quits.
#include <QObject>
#include <QSize>
#include <QString>

class MainWindow;

class ScreenshotTour : public QObject {
    Q_OBJECT
public:
    // Starts the tour when FUSEBOX_SCREENSHOT_DIR is set; otherwise does nothing.
    static void startFromEnvironment(MainWindow& window);

private:
    ScreenshotTour(MainWindow& window, QString dir, QSize size);
    void idle();
    void waitForOutage(int triesLeft);
    void outage();
    void spend();
    bool save(const QString& scene);

    MainWindow& m_window;
    QString m_dir;
    QSize m_size;
    bool m_ok = true;
};
