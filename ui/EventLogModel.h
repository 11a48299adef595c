#pragma once
// The event log: breaker transitions, operator actions and route changes, newest first. Fed from the bridge only
// (seeded from the engine's history, then one row per event signal). Bounded, so a long session stays small.
#include "core/Event.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include <deque>

class EventLogModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Time, Type, Subject, Change, Reason, ColumnCount };
    // The text a copy carries: as shown, except the time in ISO 8601 UTC.
    static constexpr int CopyRole = Qt::UserRole + 1;
    static constexpr int kMaxRows = 5000;

    explicit EventLogModel(QObject* parent = nullptr);
    void seed(const std::vector<fusebox::Event>& oldestFirst);
    void add(const fusebox::Event& event);
    const fusebox::Event& eventAt(int row) const { return m_events[static_cast<std::size_t>(row)]; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    static QString subjectOf(const fusebox::Event& event); // the provider, or "route NAME"
    static QString changeOf(const fusebox::Event& event);  // "closed → open", "force_open", "a, b → b, a"

private:
    std::deque<fusebox::Event> m_events; // newest first
    uint64_t m_lastSeq = 0;
};

// Filters the log by provider (or route) and by event type; empty filters pass everything.
class EventLogFilter : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setSubject(const QString& subject);
    void setType(const QString& type); // "breaker", "operator", "route" or empty
    // The visible rows as tab-separated text, one line each, with a header line.
    QString toText() const;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QString m_subject;
    QString m_type;
};
