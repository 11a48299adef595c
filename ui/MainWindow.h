#pragma once
// The console's main window. For now a plain board of providers and their breaker states; the operations
// console (cards, charts, routes, incident controls) grows here.
#include <QMainWindow>

class EngineBridge;
class QTableWidget;
class QLabel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(EngineBridge& bridge, QWidget* parent = nullptr);

private slots:
    void showSnapshot();

private:
    EngineBridge& m_bridge;
    QTableWidget* m_providers;
    QLabel* m_status;
};
