#pragma once
// Spend per provider over time, stacked: per minute for the last hour or per hour for the last day. Read from the
// engine's spend report, which comes from the journal, so the chart is full again after a restart. The report is
// a query over a day of attempts (half a second at 300k): it runs on a worker thread, never on the GUI's.
#include <QColor>
#include <QFutureWatcher>
#include <QWidget>

#include "spend/SpendLedger.h"

class EngineBridge;
class QCategoryAxis;
class QChart;
class QComboBox;
class QStackedBarSeries;
class QTimer;
class QValueAxis;

class SpendHistoryChart : public QWidget {
    Q_OBJECT
public:
    explicit SpendHistoryChart(EngineBridge& bridge, QWidget* parent = nullptr);
    ~SpendHistoryChart() override; // waits for a query in flight: it uses the engine

    // Asks for a fresh report; the chart changes when it arrives (see refreshes()).
    void refresh();
    // For tests: the USD the chart shows, all bars added up, how many buckets it has, and how many reports it has
    // drawn so far.
    double shownUsd() const { return m_shownUsd; }
    int bucketCount() const { return m_buckets; }
    int refreshes() const { return m_refreshes; }
    // Of the span shown: what the breakers' refusals are estimated to have saved, and the spend wasted on
    // answers that did not reach the client whole.
    const fusebox::SpendSaved& saved() const { return m_saved; }
    double wastedUsd() const { return m_wastedUsd; }
    bool perMinute() const { return m_query.perMinute; }
    QCategoryAxis& timeAxis() const { return *m_time; }
    // The colour of a provider's bars (invalid when it has none in the report shown).
    QColor barColour(const QString& provider) const;

signals:
    void drawn();

private:
    // What a report was asked for: the chart draws it with the same span and times.
    struct Query {
        bool perMinute = true;
        qint64 step = 60;
        qint64 first = 0;
        qint64 now = 0;
    };
    void draw(const Query& query, const fusebox::SpendReport& report);

    EngineBridge& m_bridge;
    QFutureWatcher<fusebox::SpendReport>* m_watcher;
    Query m_query;
    bool m_refreshAgain = false; // asked again while a query ran: one more when it is done
    int m_refreshes = 0;
    QComboBox* m_span;
    QChart* m_chart;
    QStackedBarSeries* m_series = nullptr;
    QCategoryAxis* m_time;
    QValueAxis* m_usd;
    QTimer* m_timer;
    double m_shownUsd = 0;
    double m_wastedUsd = 0;
    fusebox::SpendSaved m_saved;
    int m_buckets = 0;
};
