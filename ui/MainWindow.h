#pragma once
// The operations console: the proxy address and headline figures, a card per provider with its incident controls,
// the routes' fallback chains, the event log, the charts and (in --demo) the drills. Everything it shows comes from
// EngineBridge; every command goes back through it.
#include "ProviderCard.h"

#include <QMainWindow>

class FleetStatusLabel;
class EngineBridge;
class EventLogModel;
class EventLogPanel;
class RoutesPanel;
class ChartsPanel;
class SpendPanel;
class TrayKeeper;
class WelcomePanel;
class ProviderHistory;
class QLabel;
class DrillMenu;
class ProviderBoard;
class QSplitter;
class QTabWidget;

namespace fusebox {
struct Event;
}

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(EngineBridge& bridge, QWidget* parent = nullptr);
    ~MainWindow() override;

    ProviderCard* card(const QString& provider) const;
    EventLogModel& eventLog() { return *m_eventLog; }
    EventLogPanel& eventLogPanel() { return *m_eventPanel; }
    RoutesPanel& routesPanel() { return *m_routes; }
    ChartsPanel& chartsPanel() { return *m_charts; }
    SpendPanel& spendPanel() { return *m_spend; }
    ProviderBoard& board() { return *m_board; }
    // Writes every attempt of the last 30 days as CSV (the columns of /admin/v1/attempts.csv). False on an I/O error.
    bool exportAttempts(const QString& path);
    ProviderHistory& history() { return *m_history; }
    // What clients get over all routes ("ok", "degraded", "down"), as the tray shows it.
    QString overallState() const;
    TrayKeeper& trayKeeper() { return *m_keeper; }
    WelcomePanel& welcomePanel() { return *m_welcome; }
    static QStringList drillKinds();

public slots:
    void runIncidentAction(const QString& provider, ProviderCard::Action action);
    void runDrill(const QString& provider, const QString& kind);
    // Quit (menu, Ctrl+Q, tray): asks when agents are using the port, then emits quitConfirmed.
    void quit();

signals:
    void quitConfirmed(); // Fusebox may stop now (main connects it to QApplication::quit)

protected:
    void closeEvent(QCloseEvent* event) override;

private slots:
    void showSnapshot();
    void onEvent(const fusebox::Event& event);

private:
    QWidget* buildHeader();
    QWidget* buildBoard();
    void buildMenus();
    void buildTray();
    void syncCards();
    void selectProvider(const QString& provider);
    void saveSettings() const;
    void restoreSettings();

    EngineBridge& m_bridge;
    EventLogModel* m_eventLog;
    ProviderHistory* m_history;
    EventLogPanel* m_eventPanel = nullptr;
    RoutesPanel* m_routes = nullptr;
    ChartsPanel* m_charts = nullptr;
    SpendPanel* m_spend = nullptr;
    QTabWidget* m_tabs = nullptr;
    QSplitter* m_boardSplit = nullptr;
    QSplitter* m_lowerSplit = nullptr;
    ProviderBoard* m_board = nullptr;
    DrillMenu* m_drills = nullptr;
    QList<ProviderCard*> m_cards;
    QLabel* m_address = nullptr;
    FleetStatusLabel* m_fleet = nullptr;
    QLabel* m_overall = nullptr;
    QLabel* m_rps = nullptr;
    QLabel* m_errors = nullptr;
    QLabel* m_spendToday = nullptr;
    QLabel* m_message = nullptr;
    QLabel* m_overallDetail = nullptr;
    TrayKeeper* m_keeper = nullptr;
    WelcomePanel* m_welcome = nullptr;
    QString m_trayState;
    fusebox::RouteState m_lastHealth = fusebox::RouteState::Ok;
    bool m_quitting = false;
};
