#include "EventLogPanel.h"

#include "EventLogModel.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

EventLogPanel::EventLogPanel(EventLogModel& model, QWidget* parent)
    : QWidget(parent), m_filter(new EventLogFilter(this)), m_subject(new QComboBox(this)), m_type(new QComboBox(this)),
      m_view(new QTableView(this)) {
    setObjectName("eventLogPanel");
    m_filter->setSourceModel(&model);
    m_subject->setObjectName("eventSubjectFilter");
    m_subject->addItem("All providers and routes", QString());
    m_type->setObjectName("eventTypeFilter");
    m_type->addItem("All types", QString());
    for (const char* type : {"breaker", "operator", "route"}) m_type->addItem(type, QString(type));
    auto* copy = new QPushButton("Copy", this);
    copy->setObjectName("copyEventsButton");
    copy->setToolTip("Copy the shown events as text");

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel("Show", this));
    bar->addWidget(m_subject);
    bar->addWidget(m_type);
    bar->addStretch(1);
    bar->addWidget(copy);

    m_view->setObjectName("eventLogView");
    m_view->setModel(m_filter);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setColumnWidth(0, 175); // date, time and zone
    m_view->setColumnWidth(1, 70);
    m_view->setColumnWidth(2, 105);
    m_view->setColumnWidth(3, 150);
    m_view->setWordWrap(false);
    // The focus shows even before a row is current (a table draws no focus of its own until then).
    m_view->setStyleSheet("QTableView:focus { border: 2px solid #0d47a1; }");

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_view);

    connect(m_subject, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setSubject(m_subject->currentData().toString()); });
    connect(m_type, &QComboBox::currentIndexChanged, this,
            [this] { m_filter->setType(m_type->currentData().toString()); });
    connect(copy, &QPushButton::clicked, this, &EventLogPanel::copyToClipboard);
}

void EventLogPanel::setSubjects(const QStringList& subjects) {
    if (subjects == m_subjects) return;
    m_subjects = subjects;
    const QString current = m_subject->currentData().toString();
    while (m_subject->count() > 1) m_subject->removeItem(1);
    for (const QString& s : subjects) m_subject->addItem(s, s);
    const int index = m_subject->findData(current);
    m_subject->setCurrentIndex(index < 0 ? 0 : index);
}

void EventLogPanel::copyToClipboard() { QApplication::clipboard()->setText(m_filter->toText()); }
