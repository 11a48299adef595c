#include "MainWindow.h"

#include "EngineBridge.h"

#include <QHeaderView>
#include <QLabel>
#include <QStatusBar>
#include <QTableWidget>
#include <QVBoxLayout>

MainWindow::MainWindow(EngineBridge& bridge, QWidget* parent)
    : QMainWindow(parent), m_bridge(bridge), m_providers(new QTableWidget(this)), m_status(new QLabel(this)) {
    setWindowTitle("Fusebox");
    setObjectName("mainWindow");
    m_providers->setObjectName("providerTable");
    m_providers->setColumnCount(4);
    m_providers->setHorizontalHeaderLabels({"Provider", "Kind", "State", "Reason"});
    m_providers->horizontalHeader()->setStretchLastSection(true);
    m_providers->setEditTriggers(QAbstractItemView::NoEditTriggers);
    setCentralWidget(m_providers);
    statusBar()->addWidget(m_status);
    resize(900, 500);
    connect(&m_bridge, &EngineBridge::snapshotUpdated, this, &MainWindow::showSnapshot);
    showSnapshot();
}

void MainWindow::showSnapshot() {
    const auto& snapshot = m_bridge.snapshot();
    m_providers->setRowCount(static_cast<int>(snapshot.providers.size()));
    int row = 0;
    for (const auto& p : snapshot.providers) {
        const auto set = [&](int column, const std::string& text) {
            auto* item = m_providers->item(row, column);
            if (item == nullptr) m_providers->setItem(row, column, item = new QTableWidgetItem);
            item->setText(QString::fromStdString(text));
        };
        set(0, p.id);
        set(1, fusebox::providerKindName(p.kind));
        set(2, std::string(fusebox::breakerStateName(p.breaker.state)));
        set(3, p.hasKey ? p.breaker.reason : p.keyHint);
        ++row;
    }
    m_status->setText(QString("%1 providers, %2 routes").arg(snapshot.providers.size()).arg(snapshot.routes.size()));
}
