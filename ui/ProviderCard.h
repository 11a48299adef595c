#pragma once
// One provider on the board: its breaker state in colour, the reason of the last transition, the countdown to the
// next probe, live figures, the window's counts by outcome, and the incident controls (buttons, context menu and
// shortcuts). It shows a ProviderSnapshot; what the controls do is decided by whoever listens to its signals.
#include "Snapshot.h"

#include <QFrame>
#include <QMap>

class FleetOriginLabel;
class QLabel;
class QPushButton;
class QAction;

class ProviderCard : public QFrame {
    Q_OBJECT
public:
    enum class Action { ForceOpen, ForceClose, Reset };

    explicit ProviderCard(const QString& providerId, QWidget* parent = nullptr);
    void show(const fusebox::ProviderSnapshot& provider);
    const QString& providerId() const { return m_id; }
    void setSelected(bool selected);
    QAction* action(Action which) const;
    // The drills menu (--demo): kinds offered to the operator, nothing when empty.
    void setDrills(const QStringList& kinds);

signals:
    void actionRequested(const QString& provider, ProviderCard::Action action);
    void drillRequested(const QString& provider, const QString& kind);
    void selected(const QString& provider);

protected:
    void contextMenuEvent(QContextMenuEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void focusInEvent(QFocusEvent* event) override;

private:
    QLabel* addValue(class QGridLayout* grid, int row, int column, const QString& caption, const QString& name);

    QString m_id;
    QStringList m_drills;
    QLabel* m_state;
    QLabel* m_manual;
    QLabel* m_noKey;
    FleetOriginLabel* m_origin = nullptr;
    QLabel* m_reason;
    QLabel* m_countdown;
    QLabel* m_countdownCaption = nullptr;
    QLabel* m_rps;
    QLabel* m_errors;
    QLabel* m_latency;
    QLabel* m_inFlight;
    QMap<QString, QLabel*> m_counts;
    QAction* m_forceOpen;
    QAction* m_forceClose;
    QAction* m_reset;
    bool m_selected = false;
};

Q_DECLARE_METATYPE(ProviderCard::Action)
