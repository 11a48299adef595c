#pragma once
// Spend per provider over time, stacked: per minute for the last hour or per hour for the last day. Read from the
// engine's spend report, which comes from the journal, so the chart is full again after a restart.
#include <QWidget>

#include "spend/SpendLedger.h"

class EngineBridge;
class QBarCategoryAxis;
class QChart;
class QComboBox;
class QStackedBarSeries;
class QTimer;
class QValueAxis;

class SpendHistoryChart : public QWidget {
    Q_OBJECT
public:
    explicit SpendHistoryChart(EngineBridge& bridge, QWidget* parent = nullptr);

    void refresh();
    // For tests: the USD the chart shows, all bars added up, and how many buckets it has.
    double shownUsd() const { return m_shownUsd; }
    int bucketCount() const { return m_buckets; }

private:
    EngineBridge& m_bridge;
    QComboBox* m_span;
    QChart* m_chart;
    QStackedBarSeries* m_series = nullptr;
    QBarCategoryAxis* m_time;
    QValueAxis* m_usd;
    QTimer* m_timer;
    double m_shownUsd = 0;
    int m_buckets = 0;
};
