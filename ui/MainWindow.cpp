#include "MainWindow.h"

#include "FleetStatusLabel.h"

#include "ChartsPanel.h"
#include "ConfirmDialog.h"
#include "EngineBridge.h"
#include "EventLogModel.h"
#include "EventLogPanel.h"
#include "Format.h"
#include "ProviderHistory.h"
#include "RoutesPanel.h"
#include "SpendPanel.h"

#include <QDateTime>
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

constexpr int kCardsPerRow = 3;

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

    buildMenus();
    buildTray();
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
    auto* cards = new QWidget(m_boardSplit);
    cards->setObjectName("providerBoard");
    m_cardGrid = new QGridLayout(cards);
    m_cardGrid->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    auto* scroll = new QScrollArea(m_boardSplit);
    scroll->setWidget(cards);
    scroll->setWidgetResizable(true);
    scroll->setMinimumHeight(150);
    m_boardSplit->addWidget(scroll);

    m_lowerSplit = new QSplitter(Qt::Horizontal, m_boardSplit);
    m_lowerSplit->setObjectName("lowerSplit");
    auto* left = new QSplitter(Qt::Vertical, m_lowerSplit);
    m_routes = new RoutesPanel(m_bridge, left);
    auto* routesScroll = new QScrollArea(left);
    routesScroll->setWidget(m_routes);
    routesScroll->setWidgetResizable(true);
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
    file->addAction("&Quit", QKeySequence::Quit, qApp, &QApplication::quit);
    if (!m_bridge.demoMode()) return;
    QMenu* drills = menuBar()->addMenu("&Drill");
    drills->setObjectName("drillMenu");
    for (const auto& p : m_bridge.snapshot().providers) {
        const QString id = QString::fromStdString(p.id);
        if (!id.startsWith("sim-")) continue; // only the simulated providers of --demo take drills
        QMenu* sub = drills->addMenu(id);
        const QStringList labels = {"Outage (503)", "429 storm", "Slow bleed", "Hang", "Clear"};
        for (int i = 0; i < drillKinds().size(); ++i) {
            const QString kind = drillKinds()[i];
            QAction* action = sub->addAction(labels[i], this, [this, id, kind] { runDrill(id, kind); });
            action->setObjectName("drill_" + id + "_" + kind);
        }
    }
}

QStringList MainWindow::drillKinds() { return {"outage", "rate_limit", "slow", "hang", "clear"}; }

void MainWindow::buildTray() {
    if (!QSystemTrayIcon::isSystemTrayAvailable()) return;
    m_tray = new QSystemTrayIcon(stateIcon(console::stateColor(BreakerState::Closed)), this);
    m_tray->setToolTip("Fusebox");
    connect(m_tray, &QSystemTrayIcon::activated, this, [this] {
        showNormal();
        raise();
        activateWindow();
    });
    m_tray->show();
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
        auto* c = new ProviderCard(id, m_cardGrid->parentWidget());
        if (m_bridge.demoMode() && id.startsWith("sim-")) c->setDrills(drillKinds());
        connect(c, &ProviderCard::actionRequested, this, &MainWindow::runIncidentAction);
        connect(c, &ProviderCard::drillRequested, this, &MainWindow::runDrill);
        connect(c, &ProviderCard::selected, this, &MainWindow::selectProvider);
        m_cardGrid->addWidget(c, m_cards.size() / kCardsPerRow, m_cards.size() % kCardsPerRow);
        m_cards << c;
        ids << id;
    }
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
    double rps = 0, errorWeighted = 0;
    BreakerState worst = BreakerState::Closed;
    int refusing = 0;
    for (std::size_t i = 0; i < snapshot.providers.size(); ++i) {
        const auto& p = snapshot.providers[i];
        m_cards[static_cast<int>(i)]->show(p);
        rps += p.figures.requestsPerSecond;
        errorWeighted += p.figures.errorRate * p.figures.requestsPerSecond;
        if (console::stateSeverity(p.breaker.state) > console::stateSeverity(worst)) worst = p.breaker.state;
        if (p.breaker.state == BreakerState::Open || p.breaker.state == BreakerState::ForcedOpen) ++refusing;
    }
    m_rps->setText(console::rate(rps));
    m_errors->setText(console::percent(rps > 0 ? errorWeighted / rps : 0.0));
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
    const QString overall = refusing > 0 ? QString("%1 open").arg(refusing)
                                         : (worst == BreakerState::Closed ? QString("all closed") : console::stateName(worst));
    m_overall->setText(overall);
    const QColor colour = console::stateColor(worst);
    m_overall->setStyleSheet(QString("QLabel { font-size: 13pt; font-weight: bold; color: %1; }").arg(colour.name()));
    m_overall->setProperty("stateColor", colour.name());
    if (m_trayState != colour.name()) {
        m_trayState = colour.name();
        setWindowIcon(stateIcon(colour));
        if (m_tray) {
            m_tray->setIcon(stateIcon(colour));
            m_tray->setToolTip("Fusebox: " + overall);
        }
    }
    m_routes->show(snapshot.routes);
    // Charts redraw once a second at most: ProviderHistory samples at that pace.
    if (m_history->add(snapshot)) {
        m_charts->show(snapshot);
        m_spend->redraw(std::chrono::duration_cast<std::chrono::milliseconds>(snapshot.takenAt.time_since_epoch()).count());
    }
}

void MainWindow::onEvent(const fusebox::Event& event) {
    m_eventLog->add(event);
    if (event.type != fusebox::EventType::Breaker || m_tray == nullptr) return;
    if (event.to == "open" || event.to == "closed") {
        const bool opened = event.to == "open";
        m_tray->showMessage(QString("%1 breaker %2").arg(QString::fromStdString(event.provider), opened ? "opened" : "closed"),
                            QString::fromStdString(event.reason),
                            opened ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information, 8000);
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
        m_message->setStyleSheet({});
        m_message->setText("Drill " + kind + " on " + provider);
    }
}

void MainWindow::closeEvent(QCloseEvent* event) {
    saveSettings();
    QMainWindow::closeEvent(event);
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
    else m_boardSplit->setSizes({222, 638});
    if (settings.contains("window/lowerSplit")) m_lowerSplit->restoreState(settings.value("window/lowerSplit").toByteArray());
    else m_lowerSplit->setSizes({640, 740});
    m_tabs->setCurrentIndex(settings.value("window/tab", 0).toInt());
}
