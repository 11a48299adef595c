#include "TrayKeeper.h"

#include "EngineBridge.h"

#include <QAction>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSystemTrayIcon>
#include <QWidget>

namespace {

constexpr const char* kHideToTrayKey = "console/hideToTray";

std::optional<bool> s_trayForTests;
std::optional<bool> s_nextQuitAnswer;
QString s_lastQuitQuestion;

QString count(uint64_t n, const char* one, const char* many) {
    return QString::number(n) + " " + (n == 1 ? one : many);
}

} // namespace

void TrayKeeper::setTrayAvailableForTests(std::optional<bool> available) { s_trayForTests = available; }
void TrayKeeper::setNextQuitAnswer(std::optional<bool> quit) { s_nextQuitAnswer = quit; }
QString TrayKeeper::lastQuitQuestion() { return s_lastQuitQuestion; }

TrayKeeper::TrayKeeper(QWidget& window, EngineBridge& bridge) : QObject(&window), m_window(window), m_bridge(bridge) {
    m_hideToTray = new QAction("&Keep serving in the tray when the window is closed", this);
    m_hideToTray->setObjectName("hideToTrayAction");
    m_hideToTray->setCheckable(true);
    m_hideToTray->setChecked(hideToTray());
    m_hideToTray->setToolTip("On: closing the window hides it to the tray and the proxy goes on serving. "
                             "Off: closing the window quits Fusebox.");
    connect(m_hideToTray, &QAction::toggled, this, &TrayKeeper::setHideToTray);
    m_quit = new QAction("&Quit Fusebox", this);
    m_quit->setObjectName("quitAction");
    m_quit->setShortcut(QKeySequence::Quit);
    m_quit->setShortcutContext(Qt::ApplicationShortcut);
    connect(m_quit, &QAction::triggered, this, &TrayKeeper::quitRequested);

    const bool available = s_trayForTests.value_or(QSystemTrayIcon::isSystemTrayAvailable());
    if (!available) return;
    m_tray = new QSystemTrayIcon(this);
    m_tray->setToolTip("Fusebox");
    m_menu = new QMenu(&window);
    m_menu->addAction("&Show Fusebox", this, &TrayKeeper::showRequested);
    m_menu->addSeparator();
    m_menu->addAction(m_quit);
    m_tray->setContextMenu(m_menu);
    connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick) emit showRequested();
    });
}

void TrayKeeper::setIcon(const QIcon& icon, const QString& tooltip) {
    if (!m_tray) return;
    m_tray->setIcon(icon);
    m_tray->setToolTip(tooltip);
    if (!m_tray->isVisible()) m_tray->show(); // shown once it has an icon (Qt warns about an empty one)
}

void TrayKeeper::notify(const QString& title, const QString& text, bool warning) {
    if (!m_tray) return;
    m_tray->showMessage(title, text, warning ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information, 8000);
}

bool TrayKeeper::hideToTray() const { return QSettings().value(kHideToTrayKey, true).toBool(); }

void TrayKeeper::setHideToTray(bool on) {
    QSettings().setValue(kHideToTrayKey, on);
    if (m_hideToTray->isChecked() != on) m_hideToTray->setChecked(on);
}

bool TrayKeeper::hideInsteadOfClose() {
    if (!m_tray || !hideToTray()) return false;
    m_window.hide();
    if (m_hides++ == 0) {
        ++m_notices;
        // Once per run: enough to learn where it went, not a nag at every close.
        m_lastNotice = "Fusebox is still serving on " + QString::fromStdString(m_bridge.snapshot().listenUrl) +
                       ". Click the tray icon to show the window; quit from its menu.";
        notify("Fusebox keeps serving", m_lastNotice, false);
    }
    return true;
}

QString TrayKeeper::quitQuestion(const QString& address, int64_t inFlight, uint64_t lastMinute) {
    if (inFlight <= 0 && lastMinute == 0) return {};
    QStringList using_;
    if (inFlight > 0) using_ << count(static_cast<uint64_t>(inFlight), "request", "requests") + " in flight";
    if (lastMinute > 0) using_ << count(lastMinute, "request", "requests") + " in the last minute";
    return QString("Agents are using Fusebox: %1.\n\nOnce it stops, they get \"connection refused\" at %2 until it "
                   "runs again. Quit anyway?")
        .arg(using_.join(", "), address);
}

bool TrayKeeper::confirmQuit() {
    m_bridge.refresh(); // the counts of this moment, not of the last poll
    const auto& snapshot = m_bridge.snapshot();
    const QString question = quitQuestion(QString::fromStdString(snapshot.listenUrl), snapshot.agentRequestsInFlight,
                                          snapshot.agentRequestsLastMinute);
    s_lastQuitQuestion = question;
    if (question.isEmpty()) return true;
    if (s_nextQuitAnswer) {
        const bool answer = *s_nextQuitAnswer;
        s_nextQuitAnswer.reset();
        return answer;
    }
    QMessageBox box(QMessageBox::Warning, "Quit Fusebox?", question, QMessageBox::NoButton,
                    m_window.isVisible() ? &m_window : nullptr);
    box.setObjectName("quitQuestion");
    QPushButton* quit = box.addButton("Quit", QMessageBox::DestructiveRole);
    QPushButton* keep = box.addButton("Keep serving", QMessageBox::RejectRole);
    box.setDefaultButton(keep);
    box.exec();
    return box.clickedButton() == quit;
}
