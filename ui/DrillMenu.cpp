#include "DrillMenu.h"

#include "Format.h"

#include <QAction>
#include <QActionGroup>
#include <QMenu>
#include <QMenuBar>

DrillMenu::DrillMenu(QMenuBar* bar, const QStringList& providers, const QStringList& kinds, QObject* parent)
    : QObject(parent) {
    QMenu* drills = bar->addMenu("&Drill");
    drills->setObjectName("drillMenu");
    for (const QString& id : providers) {
        QMenu* sub = drills->addMenu(id);
        auto* group = new QActionGroup(this);
        group->setExclusive(true);
        for (const QString& kind : kinds) {
            QAction* action = sub->addAction(console::drillName(kind));
            action->setObjectName("drill_" + id + "_" + kind);
            action->setData(kind);
            action->setCheckable(true);
            action->setChecked(kind == "clear");
            group->addAction(action);
            // The check moves only when the drill took effect (setActive); until then the old one stays checked.
            connect(action, &QAction::triggered, this, [this, id, kind] {
                setActive(id, active(id));
                emit drillRequested(id, kind);
            });
        }
        m_groups.insert(id, group);
        m_menus.insert(id, sub);
    }
}

void DrillMenu::setActive(const QString& provider, const QString& kind) {
    auto* group = m_groups.value(provider);
    if (group == nullptr) return;
    m_active.insert(provider, kind);
    for (QAction* action : group->actions()) action->setChecked(action->data().toString() == kind);
    // The submenu's title says it too, for a glance at the menu's first level.
    if (QMenu* menu = m_menus.value(provider))
        menu->setTitle(kind == "clear" ? provider : provider + "  (" + console::drillName(kind) + ")");
}

QString DrillMenu::active(const QString& provider) const {
    return m_active.value(provider, QStringLiteral("clear"));
}
