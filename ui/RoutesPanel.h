#pragma once
// Each route's fallback chain as a list the operator reorders by drag-and-drop, Move up/down buttons or
// Ctrl+Up/Ctrl+Down. A new order goes to the engine at once (EngineBridge::setRoute), which persists it.
#include "config/Config.h"

#include <QWidget>

#include <vector>

class EngineBridge;
class QListWidget;
class QVBoxLayout;

class RoutesPanel : public QWidget {
    Q_OBJECT
public:
    RoutesPanel(EngineBridge& bridge, QWidget* parent = nullptr);
    void show(const std::vector<fusebox::RouteConfig>& routes);
    QListWidget* listFor(const QString& route) const;
    // Moves the selected target of a route by delta places and applies the new order.
    void moveSelected(const QString& route, int delta);

private:
    void apply(const QString& route);
    QListWidget* addRoute(const fusebox::RouteConfig& route);

    EngineBridge& m_bridge;
    QVBoxLayout* m_layout;
    std::vector<std::pair<QString, QListWidget*>> m_lists;
    std::vector<fusebox::RouteConfig> m_shown;
};
