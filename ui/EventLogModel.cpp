#include "EventLogModel.h"

#include "Format.h"

#include <QColor>

using fusebox::Event;
using fusebox::EventType;

EventLogModel::EventLogModel(QObject* parent) : QAbstractTableModel(parent) {}

void EventLogModel::seed(const std::vector<Event>& oldestFirst) {
    for (const auto& event : oldestFirst) add(event);
}

void EventLogModel::add(const Event& event) {
    // NOTE: the history seed and the live subscription can overlap by a few events; seq tells them apart.
    if (event.seq != 0 && event.seq <= m_lastSeq) return;
    m_lastSeq = std::max(m_lastSeq, event.seq);
    beginInsertRows({}, 0, 0);
    m_events.push_front(event);
    endInsertRows();
    if (m_events.size() > kMaxRows) {
        const int last = static_cast<int>(m_events.size()) - 1;
        beginRemoveRows({}, last, last);
        m_events.pop_back();
        endRemoveRows();
    }
}

int EventLogModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_events.size());
}
int EventLogModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString EventLogModel::subjectOf(const Event& e) {
    return e.type == EventType::Route ? "route " + QString::fromStdString(e.route) : QString::fromStdString(e.provider);
}

QString EventLogModel::changeOf(const Event& e) {
    if (e.type == EventType::Operator) return QString::fromStdString(e.action).replace('_', ' ');
    if (e.type == EventType::Breaker) return console::stateName(e.from) + "  →  " + console::stateName(e.to);
    return QString::fromStdString(e.from) + "  →  " + QString::fromStdString(e.to);
}

QVariant EventLogModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount()) return {};
    const Event& e = m_events[static_cast<std::size_t>(index.row())];
    if (role == CopyRole && index.column() == Time) return console::isoUtc(e.at);
    if (role == Qt::ToolTipRole && index.column() == Time) return console::isoUtc(e.at);
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole || role == CopyRole) {
        switch (index.column()) {
        case Time: return console::dateTime(e.at);
        case Type: return QString(fusebox::eventTypeName(e.type));
        case Subject: return subjectOf(e);
        case Change: return changeOf(e);
        case Reason: return QString::fromStdString(e.reason);
        }
    }
    if (role == Qt::ForegroundRole && index.column() == Change && e.type == EventType::Breaker) {
        if (auto to = fusebox::breakerStateFromName(e.to)) return console::stateColor(*to);
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* const names[] = {"Time", "Type", "Provider / route", "Change", "Reason"};
    return section >= 0 && section < ColumnCount ? QString(names[section]) : QVariant();
}

void EventLogFilter::setSubject(const QString& subject) {
    m_subject = subject;
    invalidateFilter();
}

void EventLogFilter::setType(const QString& type) {
    m_type = type;
    invalidateFilter();
}

bool EventLogFilter::filterAcceptsRow(int sourceRow, const QModelIndex&) const {
    const auto* model = static_cast<const EventLogModel*>(sourceModel());
    const Event& e = model->eventAt(sourceRow);
    if (!m_type.isEmpty() && m_type != fusebox::eventTypeName(e.type)) return false;
    if (!m_subject.isEmpty() && m_subject != EventLogModel::subjectOf(e)) return false;
    return true;
}

QString EventLogFilter::toText() const {
    QStringList lines;
    QStringList header;
    for (int c = 0; c < columnCount(); ++c) header << headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
    header[EventLogModel::Time] = "Time (UTC)";
    lines << header.join('\t');
    for (int r = 0; r < rowCount(); ++r) {
        QStringList cells;
        // Copies carry ISO 8601 UTC times: they are pasted into tickets and compared across machines.
        for (int c = 0; c < columnCount(); ++c) cells << data(index(r, c), EventLogModel::CopyRole).toString();
        lines << cells.join('\t');
    }
    return lines.join('\n') + '\n';
}
