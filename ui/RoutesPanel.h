#pragma once
// Each route's fallback chain, with what its clients get right now (ok / degraded / down, from the engine's
// RouteHealth) and each target's condition. The operator reorders by drag-and-drop, Move up/down or
// Ctrl+Up/Ctrl+Down; the new order goes to the engine at once and the list is then re-read from the engine, so it
// always shows the order that is applied. A change can be undone (Undo button or Ctrl+Z) for a few seconds.
//
// Why undo rather than a confirmation: a reorder only changes which healthy target is tried first (every target was
// already validated), it is undone exactly, and moving a target three places would otherwise take three dialogs in
// the middle of an incident. Force open refuses traffic, which no undo gives back; that one asks first.
#include "Snapshot.h"

#include <QWidget>

#include <vector>

class EngineBridge;
class QGroupBox;
class QLabel;
class QListWidget;
class QPushButton;
class QTimer;
class QVBoxLayout;

class RoutesPanel : public QWidget {
    Q_OBJECT
public:
    RoutesPanel(EngineBridge& bridge, QWidget* parent = nullptr);
    // Rebuilds the lists when the engine's routes differ from those shown; refreshes states on every call.
    void show(const fusebox::EngineSnapshot& snapshot);
    QListWidget* listFor(const QString& route) const;
    QLabel* stateFor(const QString& route) const;
    QPushButton* undoButtonFor(const QString& route) const;
    // Moves the selected target of a route by delta places and applies the new order.
    void moveSelected(const QString& route, int delta);
    // Puts back the order before the last change of this route, while the Undo offer stands. False otherwise.
    bool undo(const QString& route);
    // How long Undo stays offered after a change (tests shorten it).
    static void setUndoWindowMs(int ms);
    static int undoWindowMs();

signals:
    // A change was applied (or undone): one line for the status bar about THIS change. warning: applied, but
    // something a person should know (e.g. not written to the config file).
    void routeChanged(const QString& message, bool warning);

private:
    struct RouteView {
        QString name;
        QGroupBox* box = nullptr;
        QLabel* state = nullptr;
        QListWidget* list = nullptr;
        QWidget* undoBar = nullptr;
        QLabel* undoText = nullptr;
        QPushButton* undoButton = nullptr;
        QTimer* undoTimer = nullptr;
        std::vector<fusebox::RouteTarget> before; // the order Undo restores
        std::vector<fusebox::RouteTarget> after;  // the order Undo expects to find (else someone changed it since)
    };

    RouteView* view(const QString& route);
    const RouteView* view(const QString& route) const;
    RouteView makeView(const fusebox::RouteConfig& route);
    void fill(RouteView& view, const fusebox::RouteConfig& route);
    void showHealth(RouteView& view, const fusebox::RouteHealth& health);
    std::vector<fusebox::RouteTarget> engineOrder(const QString& route) const;
    void applyListOrder(const QString& route);
    bool apply(const QString& route, const std::vector<fusebox::RouteTarget>& targets, bool isUndo);

    EngineBridge& m_bridge;
    QVBoxLayout* m_layout;
    std::vector<RouteView> m_views;
    std::vector<fusebox::RouteConfig> m_shown;
    bool m_rebuilding = false;
    static int s_undoWindowMs;
};
