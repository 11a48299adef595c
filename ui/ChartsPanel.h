#pragma once
// Charts of one provider: its breaker window as per-second bars stacked by outcome, with the window's failure
// rate and the threshold in its title, and a 15-minute trend of the failed-or-refused share and p95 latency.
#include "Snapshot.h"

#include <QWidget>

class ProviderHistory;
class QChart;
class QChartView;
class QComboBox;
class QBarSet;
class QStackedBarSeries;
class QLineSeries;
class QValueAxis;
class QCategoryAxis;

class ChartsPanel : public QWidget {
    Q_OBJECT
public:
    ChartsPanel(const ProviderHistory& history, QWidget* parent = nullptr);
    void setProviders(const QStringList& ids);
    QString provider() const;
    void setProvider(const QString& id);
    // Redraws from the snapshot (window bars) and the history (trend). Call at most about once a second.
    void show(const fusebox::EngineSnapshot& snapshot);

    // For tests: how many bars (seconds) and trend points are drawn.
    int barCount() const;
    int trendPointCount() const;
    // The count axis' tick values, the time axes' labels, and when (ms before now) the trend's failure line peaks.
    QList<double> countTicks() const;
    QStringList windowTimeLabels() const;
    QStringList trendTimeLabels() const;
    double trendPeakMsecs() const;

private:
    void buildWindowChart();
    void buildTrendChart();

    const ProviderHistory& m_history;
    QComboBox* m_provider;
    QStackedBarSeries* m_bars = nullptr;
    QList<QBarSet*> m_sets;
    QCategoryAxis* m_barAxis = nullptr;
    int m_barSeconds = 0;
    QValueAxis* m_countAxis = nullptr;
    QChartView* m_windowView = nullptr;
    QLineSeries* m_failureTrend = nullptr;
    QLineSeries* m_p95Trend = nullptr;
    QCategoryAxis* m_trendTime = nullptr;
    QValueAxis* m_trendRate = nullptr;
    QValueAxis* m_trendLatency = nullptr;
    QChartView* m_trendView = nullptr;
};
