#pragma once
// Keeps the proxy alive when the window goes: closing the window (✕, Ctrl+W) hides it to the tray while Fusebox
// goes on serving (the first time, a notification says so), and quitting asks first when agents are using the port
// (requests in flight, or requests in the last minute), naming how many. The tray icon carries the overall health.
//
// Where no system tray exists, or the operator turned the setting off (QSettings console/hideToTray, File menu),
// closing the window is quitting, with the same question.
//
// Test seams (as ConfirmDialog's): setTrayAvailableForTests() stands in for the desktop's answer, and
// setNextQuitAnswer() answers the next quit question without showing it.
#include <QObject>
#include <QString>

#include <cstdint>
#include <optional>

class EngineBridge;
class QAction;
class QIcon;
class QMenu;
class QSystemTrayIcon;
class QWidget;

class TrayKeeper : public QObject {
    Q_OBJECT
public:
    TrayKeeper(QWidget& window, EngineBridge& bridge);

    // True when a tray icon is shown (the desktop has a tray).
    bool hasTray() const { return m_tray != nullptr; }
    QSystemTrayIcon* tray() const { return m_tray; }
    void setIcon(const QIcon& icon, const QString& tooltip);
    void notify(const QString& title, const QString& text, bool warning);

    // The window's close: true when it was hidden to the tray (the close must be ignored), false when closing
    // means quitting.
    bool hideInsteadOfClose();
    // Asks when agents are using the port; true when Fusebox may stop.
    bool confirmQuit();
    // The question confirmQuit() asks for these counts; empty when nobody is using the port.
    static QString quitQuestion(const QString& address, int64_t inFlight, uint64_t lastMinute);

    bool hideToTray() const;
    void setHideToTray(bool on);
    QAction* hideToTrayAction() const { return m_hideToTray; }
    QAction* quitAction() const { return m_quit; }
    int hides() const { return m_hides; }
    int noticesShown() const { return m_notices; }
    QString lastNotice() const { return m_lastNotice; }

    static void setTrayAvailableForTests(std::optional<bool> available);
    static void setNextQuitAnswer(std::optional<bool> quit); // nullopt: ask for real
    static QString lastQuitQuestion();

signals:
    void showRequested();
    void quitRequested(); // Quit from the tray or the menu: the window confirms and stops

private:
    QWidget& m_window;
    EngineBridge& m_bridge;
    QSystemTrayIcon* m_tray = nullptr;
    QMenu* m_menu = nullptr;
    QAction* m_hideToTray = nullptr;
    QAction* m_quit = nullptr;
    int m_hides = 0;
    int m_notices = 0;
    QString m_lastNotice;
};
