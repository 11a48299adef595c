#pragma once
// The event log view: filters by provider/route and by type, newest first, and "Copy" as tab-separated text.
#include <QWidget>

class EventLogModel;
class EventLogFilter;
class QComboBox;
class QTableView;

class EventLogPanel : public QWidget {
    Q_OBJECT
public:
    EventLogPanel(EventLogModel& model, QWidget* parent = nullptr);
    // Offers these subjects (provider ids and "route NAME") in the filter; keeps the current choice.
    void setSubjects(const QStringList& subjects);
    EventLogFilter& filter() { return *m_filter; }

public slots:
    void copyToClipboard();

private:
    EventLogFilter* m_filter;
    QComboBox* m_subject;
    QComboBox* m_type;
    QTableView* m_view;
    QStringList m_subjects;
};
