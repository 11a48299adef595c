#include "RoutesPanel.h"

#include "EngineBridge.h"
#include "Format.h"

#include <QAbstractItemModel>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QShortcut>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace {

constexpr int kProviderRole = Qt::UserRole;
constexpr int kModelRole = Qt::UserRole + 1;

bool sameRoutes(const std::vector<fusebox::RouteConfig>& a, const std::vector<fusebox::RouteConfig>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].targets != b[i].targets) return false;
    return true;
}

QString targetName(const fusebox::RouteTarget& t) {
    return QString::fromStdString(t.provider) + (t.model.empty() ? "" : "  (model " + QString::fromStdString(t.model) + ")");
}

QString describe(const std::vector<fusebox::RouteTarget>& targets) {
    QStringList names;
    for (const auto& t : targets) names << QString::fromStdString(t.provider) + (t.model.empty() ? "" : "/" + QString::fromStdString(t.model));
    return names.join(" → ");
}

} // namespace

int RoutesPanel::s_undoWindowMs = 10'000;
void RoutesPanel::setUndoWindowMs(int ms) { s_undoWindowMs = ms; }
int RoutesPanel::undoWindowMs() { return s_undoWindowMs; }

RoutesPanel::RoutesPanel(EngineBridge& bridge, QWidget* parent) : QWidget(parent), m_bridge(bridge) {
    setObjectName("routesPanel");
    m_layout = new QVBoxLayout(this);
    m_layout->addStretch(1);
}

RoutesPanel::RouteView* RoutesPanel::view(const QString& route) {
    for (auto& v : m_views)
        if (v.name == route) return &v;
    return nullptr;
}

const RoutesPanel::RouteView* RoutesPanel::view(const QString& route) const {
    for (const auto& v : m_views)
        if (v.name == route) return &v;
    return nullptr;
}

QListWidget* RoutesPanel::listFor(const QString& route) const {
    const RouteView* v = view(route);
    return v ? v->list : nullptr;
}

QLabel* RoutesPanel::stateFor(const QString& route) const {
    const RouteView* v = view(route);
    return v ? v->state : nullptr;
}

QPushButton* RoutesPanel::undoButtonFor(const QString& route) const {
    const RouteView* v = view(route);
    return v ? v->undoButton : nullptr;
}

void RoutesPanel::show(const fusebox::EngineSnapshot& snapshot) {
    const auto& routes = snapshot.routes;
    if (!sameRoutes(routes, m_shown)) {
        bool sameNames = routes.size() == m_views.size();
        for (std::size_t i = 0; sameNames && i < routes.size(); ++i)
            sameNames = m_views[i].name == QString::fromStdString(routes[i].name);
        if (!sameNames) {
            for (auto& v : m_views) delete v.box;
            m_views.clear();
            for (const auto& r : routes) m_views.push_back(makeView(r));
        }
        for (std::size_t i = 0; i < routes.size(); ++i) fill(m_views[i], routes[i]);
        m_shown = routes;
    }
    for (const auto& health : snapshot.health.routes)
        if (RouteView* v = view(QString::fromStdString(health.route))) showHealth(*v, health);
}

RoutesPanel::RouteView RoutesPanel::makeView(const fusebox::RouteConfig& route) {
    RouteView v;
    v.name = QString::fromStdString(route.name);
    const QString name = v.name;
    v.box = new QGroupBox("Route " + name, this);
    v.box->setObjectName("routeBox_" + name);
    v.state = new QLabel(v.box);
    v.state->setObjectName("routeState_" + name);
    v.state->setWordWrap(true);
    v.state->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v.list = new QListWidget(v.box);
    v.list->setObjectName("routeList_" + name);
    v.list->setDragDropMode(QAbstractItemView::InternalMove);
    v.list->setDefaultDropAction(Qt::MoveAction);
    v.list->setToolTip("Fallback order: first to last. Drag, Move up/down or Ctrl+Up / Ctrl+Down to reorder "
                       "(applies at once; Ctrl+Z undoes it for a few seconds).");
    v.list->setMaximumHeight(110);
    v.list->setMinimumHeight(60);
    auto* up = new QPushButton("Move up", v.box);
    up->setObjectName("moveUp_" + name);
    auto* down = new QPushButton("Move down", v.box);
    down->setObjectName("moveDown_" + name);
    auto* buttons = new QVBoxLayout;
    buttons->addWidget(up);
    buttons->addWidget(down);
    buttons->addStretch(1);
    auto* row = new QHBoxLayout;
    row->addWidget(v.list, 1);
    row->addLayout(buttons);

    v.undoBar = new QWidget(v.box);
    v.undoBar->setObjectName("routeUndoBar_" + name);
    auto* undoRow = new QHBoxLayout(v.undoBar);
    undoRow->setContentsMargins(0, 0, 0, 0);
    v.undoText = new QLabel(v.undoBar);
    v.undoText->setWordWrap(true);
    v.undoButton = new QPushButton("Undo", v.undoBar);
    v.undoButton->setObjectName("routeUndo_" + name);
    v.undoButton->setToolTip("Put back the previous order (Ctrl+Z in the list)");
    undoRow->addWidget(v.undoText, 1);
    undoRow->addWidget(v.undoButton);
    v.undoBar->hide();
    v.undoTimer = new QTimer(v.box);
    v.undoTimer->setSingleShot(true);

    auto* column = new QVBoxLayout(v.box);
    column->addWidget(v.state);
    column->addLayout(row);
    column->addWidget(v.undoBar);
    m_layout->insertWidget(m_layout->count() - 1, v.box);

    connect(up, &QPushButton::clicked, this, [this, name] { moveSelected(name, -1); });
    connect(down, &QPushButton::clicked, this, [this, name] { moveSelected(name, +1); });
    connect(v.undoButton, &QPushButton::clicked, this, [this, name] { undo(name); });
    QWidget* bar = v.undoBar;
    connect(v.undoTimer, &QTimer::timeout, bar, &QWidget::hide);
    auto* keyUp = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Up), v.list, nullptr, nullptr, Qt::WidgetShortcut);
    connect(keyUp, &QShortcut::activated, this, [this, name] { moveSelected(name, -1); });
    auto* keyDown = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Down), v.list, nullptr, nullptr, Qt::WidgetShortcut);
    connect(keyDown, &QShortcut::activated, this, [this, name] { moveSelected(name, +1); });
    auto* keyUndo = new QShortcut(QKeySequence::Undo, v.list, nullptr, nullptr, Qt::WidgetShortcut);
    connect(keyUndo, &QShortcut::activated, this, [this, name] { undo(name); });
    // A drop moves rows inside the list's model; that order is then applied. Queued: the drop is still being
    // handled when rowsMoved fires, and applying rebuilds the list from the engine.
    connect(v.list->model(), &QAbstractItemModel::rowsMoved, this, [this, name] {
        if (!m_rebuilding) applyListOrder(name);
    }, Qt::QueuedConnection);
    return v;
}

// NOTE: the list is rebuilt through the model's normal signals. Blocking them (as this once did) left the view
// painting rows the model no longer had: the same provider twice, both highlighted, until the next click.
void RoutesPanel::fill(RouteView& v, const fusebox::RouteConfig& route) {
    const QString selected = v.list->currentItem() ? v.list->currentItem()->data(kProviderRole).toString() +
                                                         "|" + v.list->currentItem()->data(kModelRole).toString()
                                                   : QString();
    m_rebuilding = true;
    v.list->clear();
    for (const auto& t : route.targets) {
        auto* item = new QListWidgetItem(targetName(t), v.list);
        item->setData(kProviderRole, QString::fromStdString(t.provider));
        item->setData(kModelRole, QString::fromStdString(t.model));
        if (QString::fromStdString(t.provider) + "|" + QString::fromStdString(t.model) == selected)
            v.list->setCurrentItem(item);
    }
    m_rebuilding = false;
}

void RoutesPanel::showHealth(RouteView& v, const fusebox::RouteHealth& health) {
    const QString state = QString::fromUtf8(fusebox::routeStateName(health.state));
    const QColor colour = console::healthColor(health.state);
    const QString text = state + (health.state == fusebox::RouteState::Ok ? QString() : " — " + QString::fromStdString(health.summary));
    if (v.state->text() != text) {
        v.state->setText(text);
        v.state->setStyleSheet(QString("QLabel { color: %1; font-weight: bold; }").arg(colour.name()));
    }
    v.state->setProperty("routeState", state);
    v.state->setProperty("stateColor", colour.name());
    if (static_cast<std::size_t>(v.list->count()) != health.targets.size()) return;
    for (int i = 0; i < v.list->count(); ++i) {
        const auto& target = health.targets[static_cast<std::size_t>(i)];
        QListWidgetItem* item = v.list->item(i);
        if (item->data(kProviderRole).toString() != QString::fromStdString(target.provider)) return;
        const bool serving = target.health.condition == fusebox::ProviderCondition::Serving;
        const QString text = targetName({target.provider, target.model}) +
                             (serving ? QString() : "  —  " + QString::fromStdString(target.health.why));
        if (item->text() != text) item->setText(text);
        item->setForeground(serving ? v.list->palette().text() : QBrush(console::conditionColor(target.health.condition)));
        item->setToolTip(QString::fromStdString(target.health.why));
    }
}

std::vector<fusebox::RouteTarget> RoutesPanel::engineOrder(const QString& route) const {
    for (const auto& r : m_bridge.snapshot().routes)
        if (QString::fromStdString(r.name) == route) return r.targets;
    return {};
}

void RoutesPanel::moveSelected(const QString& route, int delta) {
    RouteView* v = view(route);
    if (v == nullptr || v->list->currentItem() == nullptr) return;
    const fusebox::RouteTarget selected{v->list->currentItem()->data(kProviderRole).toString().toStdString(),
                                        v->list->currentItem()->data(kModelRole).toString().toStdString()};
    // The move is made on the engine's order of this moment, never on what a list happens to paint.
    m_bridge.refresh();
    std::vector<fusebox::RouteTarget> targets = engineOrder(route);
    const auto at = std::find(targets.begin(), targets.end(), selected);
    if (at == targets.end()) return;
    const int from = static_cast<int>(at - targets.begin());
    const int to = from + delta;
    if (to < 0 || to >= static_cast<int>(targets.size())) return;
    std::swap(targets[static_cast<std::size_t>(from)], targets[static_cast<std::size_t>(to)]);
    if (!apply(route, targets, false)) return;
    if (RouteView* after = view(route); after && to < after->list->count()) after->list->setCurrentRow(to);
}

void RoutesPanel::applyListOrder(const QString& route) {
    RouteView* v = view(route);
    if (v == nullptr) return;
    std::vector<fusebox::RouteTarget> targets;
    for (int i = 0; i < v->list->count(); ++i)
        targets.push_back({v->list->item(i)->data(kProviderRole).toString().toStdString(),
                           v->list->item(i)->data(kModelRole).toString().toStdString()});
    if (targets == engineOrder(route)) return;
    apply(route, targets, false);
}

bool RoutesPanel::undo(const QString& route) {
    RouteView* v = view(route);
    if (v == nullptr || v->undoBar->isHidden()) return false;
    const auto before = v->before;
    m_bridge.refresh(); // the engine's order of this moment, not of the last poll
    v = view(route);
    if (v == nullptr) return false;
    if (engineOrder(route) != v->after) {
        // Someone else (the admin API, another replica) changed it since: undoing would overwrite their change.
        v->undoBar->hide();
        emit routeChanged("Not undone: route " + route + " changed since (now " + describe(engineOrder(route)) + ")", true);
        return false;
    }
    return apply(route, before, true);
}

bool RoutesPanel::apply(const QString& route, const std::vector<fusebox::RouteTarget>& targets, bool isUndo) {
    const std::vector<fusebox::RouteTarget> before = engineOrder(route);
    QString warning;
    const auto collect = connect(&m_bridge, &EngineBridge::commandWarning, this, [&warning](const QString& w) { warning = w; });
    const bool ok = m_bridge.setRoute(route, targets, isUndo ? "undone from the console" : "reordered from the console");
    disconnect(collect);
    // Whatever happened, show what the engine now applies.
    m_shown.clear();
    show(m_bridge.snapshot());
    if (!ok) return false; // the bridge reported why (commandFailed)
    const QString now = describe(engineOrder(route));
    QString message = QString("Route %1 %2: %3 (was %4)").arg(route, isUndo ? "undone" : "reordered", now, describe(before));
    if (!warning.isEmpty()) message += " — applied, but: " + warning;
    if (RouteView* v = view(route)) {
        if (isUndo) {
            v->undoBar->hide();
            v->undoTimer->stop();
        } else {
            v->before = before;
            v->after = engineOrder(route);
            v->undoText->setText(QString("Now %1 (was %2).").arg(now, describe(before)));
            v->undoBar->show();
            v->undoTimer->start(s_undoWindowMs);
        }
    }
    emit routeChanged(message, !warning.isEmpty());
    return true;
}
