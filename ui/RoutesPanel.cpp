#include "RoutesPanel.h"

#include "EngineBridge.h"

#include <QAbstractItemModel>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QShortcut>
#include <QVBoxLayout>

namespace {

constexpr int kProviderRole = Qt::UserRole;
constexpr int kModelRole = Qt::UserRole + 1;

bool sameRoutes(const std::vector<fusebox::RouteConfig>& a, const std::vector<fusebox::RouteConfig>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].targets != b[i].targets) return false;
    return true;
}

} // namespace

RoutesPanel::RoutesPanel(EngineBridge& bridge, QWidget* parent) : QWidget(parent), m_bridge(bridge) {
    setObjectName("routesPanel");
    m_layout = new QVBoxLayout(this);
    m_layout->addStretch(1);
}

QListWidget* RoutesPanel::listFor(const QString& route) const {
    for (const auto& [name, list] : m_lists)
        if (name == route) return list;
    return nullptr;
}

void RoutesPanel::show(const std::vector<fusebox::RouteConfig>& routes) {
    if (sameRoutes(routes, m_shown)) return;
    // Keep the lists (and their selection) when only the order changed; rebuild when routes came or went.
    bool sameNames = routes.size() == m_lists.size();
    for (std::size_t i = 0; sameNames && i < routes.size(); ++i)
        sameNames = m_lists[i].first == QString::fromStdString(routes[i].name);
    if (!sameNames) {
        for (auto& [name, list] : m_lists) delete list->parentWidget();
        m_lists.clear();
        for (const auto& r : routes) m_lists.emplace_back(QString::fromStdString(r.name), addRoute(r));
    }
    for (std::size_t i = 0; i < routes.size(); ++i) {
        QListWidget* list = m_lists[i].second;
        const QString selected = list->currentItem() ? list->currentItem()->text() : QString();
        const QSignalBlocker block(list->model());
        list->clear();
        for (const auto& t : routes[i].targets) {
            const QString text = QString::fromStdString(t.provider) + (t.model.empty() ? "" : "  (model " + QString::fromStdString(t.model) + ")");
            auto* item = new QListWidgetItem(text, list);
            item->setData(kProviderRole, QString::fromStdString(t.provider));
            item->setData(kModelRole, QString::fromStdString(t.model));
            if (text == selected) list->setCurrentItem(item);
        }
    }
    m_shown = routes;
}

QListWidget* RoutesPanel::addRoute(const fusebox::RouteConfig& route) {
    const QString name = QString::fromStdString(route.name);
    auto* box = new QGroupBox("Route " + name, this);
    box->setObjectName("routeBox_" + name);
    auto* list = new QListWidget(box);
    list->setObjectName("routeList_" + name);
    list->setDragDropMode(QAbstractItemView::InternalMove);
    list->setDefaultDropAction(Qt::MoveAction);
    list->setToolTip("Fallback order: first to last. Drag, or Ctrl+Up / Ctrl+Down, to reorder.");
    list->setMaximumHeight(90);
    list->setMinimumHeight(60);
    auto* up = new QPushButton("Move up", box);
    up->setObjectName("moveUp_" + name);
    auto* down = new QPushButton("Move down", box);
    down->setObjectName("moveDown_" + name);
    auto* buttons = new QVBoxLayout;
    buttons->addWidget(up);
    buttons->addWidget(down);
    buttons->addStretch(1);
    auto* row = new QHBoxLayout(box);
    row->addWidget(list, 1);
    row->addLayout(buttons);
    m_layout->insertWidget(m_layout->count() - 1, box);

    connect(up, &QPushButton::clicked, this, [this, name] { moveSelected(name, -1); });
    connect(down, &QPushButton::clicked, this, [this, name] { moveSelected(name, +1); });
    auto* keyUp = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Up), list, nullptr, nullptr, Qt::WidgetShortcut);
    connect(keyUp, &QShortcut::activated, this, [this, name] { moveSelected(name, -1); });
    auto* keyDown = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Down), list, nullptr, nullptr, Qt::WidgetShortcut);
    connect(keyDown, &QShortcut::activated, this, [this, name] { moveSelected(name, +1); });
    // A drop moves rows inside the list's model; the new order is then applied.
    // Queued: the drop is still being handled when rowsMoved fires, and apply() rebuilds the list.
    connect(list->model(), &QAbstractItemModel::rowsMoved, this, [this, name] { apply(name); }, Qt::QueuedConnection);
    return list;
}

void RoutesPanel::moveSelected(const QString& route, int delta) {
    QListWidget* list = listFor(route);
    if (list == nullptr || list->currentRow() < 0) return;
    const int from = list->currentRow();
    const int to = from + delta;
    if (to < 0 || to >= list->count()) return;
    {
        const QSignalBlocker block(list->model());
        QListWidgetItem* item = list->takeItem(from);
        list->insertItem(to, item);
        list->setCurrentItem(item);
    }
    apply(route);
}

void RoutesPanel::apply(const QString& route) {
    QListWidget* list = listFor(route);
    if (list == nullptr) return;
    std::vector<fusebox::RouteTarget> targets;
    for (int i = 0; i < list->count(); ++i)
        targets.push_back({list->item(i)->data(kProviderRole).toString().toStdString(),
                           list->item(i)->data(kModelRole).toString().toStdString()});
    m_bridge.setRoute(route, targets);
    // The engine's answer (new order, or the old one when refused) comes back with the next snapshot.
    m_shown.clear();
    show(m_bridge.snapshot().routes);
}
