#pragma once
// The Drill menu of --demo: per simulated provider the five drills, checkable, so the menu shows which drill is
// running on each ("Clear" when none). It only asks; MainWindow runs the drill and tells it what took effect.
#include <QObject>
#include <QHash>
#include <QStringList>

class QActionGroup;
class QMenu;
class QMenuBar;

class DrillMenu : public QObject {
    Q_OBJECT
public:
    DrillMenu(QMenuBar* bar, const QStringList& providers, const QStringList& kinds, QObject* parent = nullptr);
    // Marks `kind` as the drill running on `provider` ("clear": none).
    void setActive(const QString& provider, const QString& kind);
    QString active(const QString& provider) const;

signals:
    void drillRequested(const QString& provider, const QString& kind);

private:
    QHash<QString, QActionGroup*> m_groups;
    QHash<QString, QMenu*> m_menus;
    QHash<QString, QString> m_active; // the drill that took effect, per provider
};
