#include "MainWindow.h"

#include "CardFlowLayout.h"
#include "ChartsPanel.h"
#include "DrillMenu.h"
#include "ConfirmDialog.h"
#include "EngineBridge.h"
#include "EventLogModel.h"
#include "EventLogPanel.h"
#include "FleetStatusLabel.h"
#include "Format.h"
#include "ProviderBoard.h"
#include "ProviderHistory.h"
#include "ProviderPalette.h"
#include "RoutesPanel.h"
#include "SpendPanel.h"
#include "TrayKeeper.h"
#include "WelcomePanel.h"

#include <QDateTime>
#include <cmath>
#include <QDesktopServices>
#include <QUrl>
#include <QFileDialog>
#include <QSaveFile>
#include <QStatusBar>

#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QPainter>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

using fusebox::BreakerState;

namespace {

QIcon stateIcon(const QColor& colour) {
    QPixmap pixmap(64, 64);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setBrush(colour);
    painter.setPen(QPen(colour.darker(140), 4));
    painter.drawEllipse(QRectF(6, 6, 52, 52));
    return QIcon(pixmap);
}

QLabel* headline(const QString& name, QWidget* parent) {
    auto* label = new QLabel(parent);
    label->setObjectName(name);
    label->setStyleSheet("QLabel { font-size: 13pt; font-weight: bold; }");
    return label;
}

QLabel* caption(const QString& text, QWidget* parent) {
    auto* label = new QLabel(text, parent);
    label->setStyleSheet("QLabel { color: #666; }");
    return label;
}

} // namespace

MainWindow::MainWindow(EngineBridge& bridge, QWidget* parent)
    : QMainWindow(parent), m_bridge(bridge), m_eventLog(new EventLogModel(this)), m_history(new ProviderHistory(this)) {
    setWindowTitle("Fusebox");
    setObjectName("mainWindow");
    setWindowIcon(stateIcon(console::stateColor(BreakerState::Closed)));
    m_eventLog->seed(m_bridge.eventHistory());

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->addWidget(buildHeader());
    m_welcome = new WelcomePanel(m_bridge.configPath(), central);
    layout->addWidget(m_welcome);
    m_tabs = new QTabWidget(central);
    m_tabs->setObjectName("mainTabs");
    m_tabs->addTab(buildBoard(), "Board");
    m_spend = new SpendPanel(*m_history, m_bridge, m_tabs);
    m_tabs->addTab(m_spend, "Spend");
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);
    m_message = new QLabel(this);
    m_message->setObjectName("statusMessage");
    statusBar()->addWidget(m_message, 1);

    buildTray();
    buildMenus();
    resize(1400, 900);
    restoreSettings();

    connect(&m_bridge, &EngineBridge::snapshotUpdated, this, &MainWindow::showSnapshot);
    connect(&m_bridge, &EngineBridge::eventReceived, this, &MainWindow::onEvent);
    connect(&m_bridge, &EngineBridge::commandFailed, this, [this](const QString& message) {
        m_message->setText("Not done: " + message);
        m_message->setStyleSheet("QLabel { color: #b71c1c; }");
    });
    connect(&m_bridge, &EngineBridge::commandWarning, this, [this](const QString& message) {
        m_message->setText("Applied, but: " + message);
        m_message->setStyleSheet("QLabel { color: #e65100; }");
    });
    showSnapshot();
}

MainWindow::~MainWindow() = default;

QWidget* MainWindow::buildHeader() {
    auto* header = new QWidget(this);
    auto* row = new QHBoxLayout(header);
    row->addWidget(caption("Proxy", header));
    m_address = headline("proxyAddress", header);
    m_address->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row->addWidget(m_address);
    auto* copy = new QPushButton("Copy", header);
    copy->setObjectName("copyAddressButton");
    copy->setToolTip("Copy the proxy address: point your agents' OPENAI_BASE_URL (+ /v1) or ANTHROPIC_BASE_URL here");
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(m_address->text()); });
    row->addWidget(copy);
    m_fleet = new FleetStatusLabel(header);
    row->addWidget(m_fleet);
    row->addSpacing(24);
    row->addWidget(caption("Overall", header));
    m_overall = headline("overallState", header);
    row->addWidget(m_overall);
    m_overallDetail = new QLabel(header);
    m_overallDetail->setObjectName("overallDetail");
    m_overallDetail->setMaximumWidth(460);
    // Elided to the room there is: the header must not widen the window (1024 px screens).
    m_overallDetail->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    row->addWidget(m_overallDetail, 4); // most of the spare room: it is the sentence that says what is wrong
    row->addStretch(1);
    row->addWidget(caption("Requests", header));
    m_rps = headline("headlineRps", header);
    row->addWidget(m_rps);
    row->addSpacing(16);
    row->addWidget(caption("Errors", header));
    m_errors = headline("headlineErrors", header);
    row->addWidget(m_errors);
    row->addSpacing(16);
    row->addWidget(caption("Spend today", header));
    m_spendToday = headline("headlineSpend", header);
    m_spendToday->setText("—");
    row->addWidget(m_spendToday);
    return header;
}

bool MainWindow::exportAttempts(const QString& path) {
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const std::string csv = m_bridge.attemptsCsv(now - 30 * 86400, now + 1);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return false;
    file.write(csv.data(), static_cast<qint64>(csv.size()));
    return file.commit();
}

QWidget* MainWindow::buildBoard() {
    m_boardSplit = new QSplitter(Qt::Vertical, this);
    m_boardSplit->setObjectName("boardSplit");
    m_board = new ProviderBoard(m_boardSplit);
    m_boardSplit->addWidget(m_board);

    m_lowerSplit = new QSplitter(Qt::Horizontal, m_boardSplit);
    m_lowerSplit->setObjectName("lowerSplit");
    auto* left = new QSplitter(Qt::Vertical, m_lowerSplit);
    m_routes = new RoutesPanel(m_bridge, left);
    connect(m_routes, &RoutesPanel::routeChanged, this, [this](const QString& message, bool warning) {
        m_message->setText(message); // this change, not the previous one
        m_message->setStyleSheet(warning ? QString("QLabel { color: #e65100; }") : QString());
    });
    auto* routesScroll = new QScrollArea(left);
    routesScroll->setWidget(m_routes);
    routesScroll->setWidgetResizable(true);
    routesScroll->setFocusPolicy(Qt::NoFocus);
    left->addWidget(routesScroll);
    m_eventPanel = new EventLogPanel(*m_eventLog, left);
    left->addWidget(m_eventPanel);
    left->setStretchFactor(1, 2);
    left->setSizes({190, 360});
    routesScroll->setMinimumHeight(120);
    m_charts = new ChartsPanel(*m_history, m_lowerSplit);
    m_lowerSplit->addWidget(left);
    m_lowerSplit->addWidget(m_charts);
    m_lowerSplit->setStretchFactor(0, 1);
    m_lowerSplit->setStretchFactor(1, 1);
    m_boardSplit->addWidget(m_lowerSplit);
    m_boardSplit->setStretchFactor(1, 1);
    return m_boardSplit;
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu("&File");
    file->addAction("&Export attempts as CSV...", this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, "Export attempts", "attempts.csv", "CSV (*.csv)");
        if (path.isEmpty()) return;
        if (exportAttempts(path)) statusBar()->showMessage("Attempts written to " + path, 5000);
        else statusBar()->showMessage("Could not write " + path, 8000);
    });
    file->addSeparator();
    file->addAction(m_keeper->hideToTrayAction());
    file->addAction("&Close window", QKeySequence::Close, this, &QWidget::close);
    file->addAction(m_keeper->quitAction());
    QMenu* help = menuBar()->addMenu("&Help");
    help->addAction("&Getting started", this, [this] { m_welcome->showAnyway(); });
    QAction* openConfig = help->addAction("&Open config file", this, [this] { QDesktopServices::openUrl(QUrl(m_welcome->configUrl())); });
    QAction* showConfig = help->addAction("&Show config in folder", this, [this] { QDesktopServices::openUrl(QUrl(m_welcome->folderUrl())); });
    openConfig->setEnabled(!m_bridge.configPath().isEmpty()); // a config given in memory (tests) has no file
    showConfig->setEnabled(!m_bridge.configPath().isEmpty());
    if (!m_bridge.demoMode()) return;
    QStringList sims;
    for (const auto& p : m_bridge.snapshot().providers)
        if (QString::fromStdString(p.id).startsWith("sim-")) sims << QString::fromStdString(p.id); // only --demo's
    m_drills = new DrillMenu(menuBar(), sims, drillKinds(), this);
    connect(m_drills, &DrillMenu::drillRequested, this, &MainWindow::runDrill);
}

QStringList MainWindow::drillKinds() { return {"outage", "rate_limit", "slow", "hang", "clear"}; }

void MainWindow::buildTray() {
    m_keeper = new TrayKeeper(*this, m_bridge);
    connect(m_keeper, &TrayKeeper::showRequested, this, [this] {
        showNormal();
        raise();
        activateWindow();
    });
    connect(m_keeper, &TrayKeeper::quitRequested, this, &MainWindow::quit);
}

void MainWindow::quit() {
    if (!m_keeper->confirmQuit()) return;
    saveSettings();
    m_quitting = true;
    emit quitConfirmed();
}

ProviderCard* MainWindow::card(const QString& provider) const {
    for (auto* c : m_cards)
        if (c->providerId() == provider) return c;
    return nullptr;
}

void MainWindow::syncCards() {
    const auto& providers = m_bridge.snapshot().providers;
    bool same = static_cast<int>(providers.size()) == m_cards.size();
    for (int i = 0; same && i < m_cards.size(); ++i)
        same = m_cards[i]->providerId() == QString::fromStdString(providers[static_cast<std::size_t>(i)].id);
    if (same) return;
    qDeleteAll(m_cards);
    m_cards.clear();
    QStringList ids;
    for (const auto& p : providers) {
        const QString id = QString::fromStdString(p.id);
        auto* c = new ProviderCard(id, m_board->container());
        if (m_bridge.demoMode() && id.startsWith("sim-")) c->setDrills(drillKinds());
        connect(c, &ProviderCard::actionRequested, this, &MainWindow::runIncidentAction);
        connect(c, &ProviderCard::drillRequested, this, &MainWindow::runDrill);
        connect(c, &ProviderCard::selected, this, &MainWindow::selectProvider);
        m_board->cards().addWidget(c);
        m_cards << c;
        ids << id;
    }
    ProviderPalette::assign(ids);
    m_charts->setProviders(ids);
    QStringList subjects = ids;
    for (const auto& r : m_bridge.snapshot().routes) subjects << "route " + QString::fromStdString(r.name);
    m_eventPanel->setSubjects(subjects);
    if (!m_cards.isEmpty()) selectProvider(m_charts->provider());
}

void MainWindow::selectProvider(const QString& provider) {
    for (auto* c : m_cards) c->setSelected(c->providerId() == provider);
    if (m_charts->provider() != provider) {
        m_charts->setProvider(provider);
        m_charts->show(m_bridge.snapshot());
    }
}

QString MainWindow::overallState() const { return m_overall->text(); }

void MainWindow::showSnapshot() {
    const auto& snapshot = m_bridge.snapshot();
    syncCards();
    m_address->setText(snapshot.listenUrl.empty() ? QString("not listening") : QString::fromStdString(snapshot.listenUrl));
    m_fleet->showFleet(snapshot.fleet);
    double rps = 0, failedCalls = 0;
    uint64_t calls = 0;
    for (std::size_t i = 0; i < snapshot.providers.size(); ++i) {
        const auto& p = snapshot.providers[i];
        m_cards[static_cast<int>(i)]->show(p);
        rps += p.figures.requestsPerSecond;
        // One time base for the figure: the calls of the last 60 s, the same calls each card's error rate is over.
        calls += p.figures.recentCalls;
        failedCalls += p.figures.errorRate * static_cast<double>(p.figures.recentCalls);
    }
    m_rps->setText(console::rate(rps));
    m_errors->setText(console::percent(calls > 0 ? failedCalls / static_cast<double>(calls) : 0.0) + " (last 60 s)");
    m_errors->setToolTip(QString("%1 of %2 upstream calls failed over the last 60 s (calls an open breaker refused "
                                 "are not calls; the routes panel says what clients got)")
                             .arg(std::llround(failedCalls))
                             .arg(calls));
    double spend = 0, wasted = 0;
    uint64_t unpriced = 0;
    for (const auto& p : snapshot.providers) {
        spend += p.spendTodayUsd;
        wasted += p.wastedTodayUsd;
        unpriced += p.unpricedAttempts;
    }
    // Unpriced attempts are never shown as $0: the figure says they are missing from it.
    m_spendToday->setText(QString("$%1%2").arg(spend, 0, 'f', 4).arg(unpriced > 0 ? " + unpriced" : ""));
    m_spendToday->setToolTip(QString("Today (UTC), priced attempts: $%1\nWasted (answer not delivered): $%2\n"
                                     "Attempts with no price (tokens counted, cost unknown): %3")
                                 .arg(spend, 0, 'f', 4)
                                 .arg(wasted, 0, 'f', 4)
                                 .arg(unpriced));
    // Overall is what clients get (routing/RouteHealth), not the worst breaker: a provider with no key is "closed"
    // and fails every call; two open breakers may leave every route answering.
    const auto& health = snapshot.health;
    const QString overall = QString::fromUtf8(fusebox::routeStateName(health.state));
    const QString detail = QString::fromStdString(health.summary);
    m_overall->setText(overall);
    m_overallDetail->setText(m_overallDetail->fontMetrics().elidedText(detail, Qt::ElideRight, m_overallDetail->width()));
    m_overallDetail->setToolTip(detail);
    const QColor colour = console::healthColor(health.state);
    m_overall->setStyleSheet(QString("QLabel { font-size: 13pt; font-weight: bold; color: %1; }").arg(colour.name()));
    m_overall->setProperty("stateColor", colour.name());
    const QString trayTip = "Fusebox: " + overall + " — " + detail;
    if (m_trayState != trayTip) {
        if (m_trayState.isEmpty() || colour.name() != m_overall->property("iconColor").toString()) setWindowIcon(stateIcon(colour));
        m_overall->setProperty("iconColor", colour.name());
        m_trayState = trayTip;
        m_keeper->setIcon(stateIcon(colour), trayTip);
    }
    if (health.state == fusebox::RouteState::Down && m_lastHealth != fusebox::RouteState::Down)
        m_keeper->notify("Fusebox: agents get no answer", detail, true);
    m_lastHealth = health.state;
    m_welcome->show(snapshot);
    m_routes->show(snapshot);
    // Charts redraw once a second at most: ProviderHistory samples at that pace.
    if (m_history->add(snapshot)) {
        m_charts->show(snapshot);
        m_spend->redraw(std::chrono::duration_cast<std::chrono::milliseconds>(snapshot.takenAt.time_since_epoch()).count());
    }
}

void MainWindow::onEvent(const fusebox::Event& event) {
    m_eventLog->add(event);
    if (event.type != fusebox::EventType::Breaker || !m_keeper->hasTray()) return;
    if (event.to == "open" || event.to == "closed") {
        const bool opened = event.to == "open";
        m_keeper->notify(QString("%1 breaker %2").arg(QString::fromStdString(event.provider), opened ? "opened" : "closed"),
                         QString::fromStdString(event.reason), opened);
    }
}

void MainWindow::runIncidentAction(const QString& provider, ProviderCard::Action action) {
    QString title, question;
    switch (action) {
    case ProviderCard::Action::ForceOpen:
        title = "Force open";
        question = QString("Force %1 open? Every call to it is refused until you force it closed or reset it.").arg(provider);
        break;
    case ProviderCard::Action::ForceClose:
        title = "Force close";
        question = QString("Force %1 closed? Every call is let through whatever its breaker would decide.").arg(provider);
        break;
    case ProviderCard::Action::Reset:
        title = "Reset";
        question = QString("Reset %1? Its breaker returns to closed with a cleared window and backoff.").arg(provider);
        break;
    }
    const auto reason = ConfirmDialog::ask(this, title, question);
    if (!reason) return;
    bool ok = false;
    switch (action) {
    case ProviderCard::Action::ForceOpen: ok = m_bridge.forceOpen(provider, *reason); break;
    case ProviderCard::Action::ForceClose: ok = m_bridge.forceClose(provider, *reason); break;
    case ProviderCard::Action::Reset: ok = m_bridge.reset(provider, *reason); break;
    }
    if (ok) {
        m_message->setStyleSheet({});
        m_message->setText(title + " " + provider + (reason->isEmpty() ? QString() : ": " + *reason));
    }
}

void MainWindow::runDrill(const QString& provider, const QString& kind) {
    if (m_bridge.drill(provider, kind)) {
        if (m_drills) m_drills->setActive(provider, kind);
        m_message->setStyleSheet({});
        m_message->setText(kind == "clear" ? "Drills cleared on " + provider : "Drill " + console::drillName(kind) + " on " + provider);
    }
}

void MainWindow::closeEvent(QCloseEvent* event) {
    saveSettings();
    if (m_quitting) return QMainWindow::closeEvent(event);
    // The proxy outlives the window: hidden to the tray it goes on serving. Without a tray, closing is quitting.
    if (m_keeper->hideInsteadOfClose()) return event->ignore();
    if (!m_keeper->confirmQuit()) return event->ignore();
    m_quitting = true;
    QMainWindow::closeEvent(event);
    emit quitConfirmed();
}

void MainWindow::saveSettings() const {
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/state", saveState());
    settings.setValue("window/boardSplit", m_boardSplit->saveState());
    settings.setValue("window/lowerSplit", m_lowerSplit->saveState());
    settings.setValue("window/tab", m_tabs->currentIndex());
}

void MainWindow::restoreSettings() {
    QSettings settings;
    if (settings.contains("window/geometry")) restoreGeometry(settings.value("window/geometry").toByteArray());
    restoreState(settings.value("window/state").toByteArray());
    if (settings.contains("window/boardSplit")) m_boardSplit->restoreState(settings.value("window/boardSplit").toByteArray());
    else m_boardSplit->setSizes({260, 600});
    if (settings.contains("window/lowerSplit")) m_lowerSplit->restoreState(settings.value("window/lowerSplit").toByteArray());
    else m_lowerSplit->setSizes({640, 740});
    m_tabs->setCurrentIndex(settings.value("window/tab", 0).toInt());
}
