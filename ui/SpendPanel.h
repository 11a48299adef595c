#pragma once
// Traffic and spend per provider over the last 15 minutes, from ProviderHistory: requests/s and tokens now; USD
// when the snapshot carries a spend figure (HistoryPoint::spendUsd), shown as unpriced until then.
#include <QColor>
#include <QHash>
#include <QWidget>

class EngineBridge;
class ProviderHistory;
class SpendHistoryChart;
class QChart;
class QLabel;
class QLineSeries;
class QValueAxis;
class QCategoryAxis;

class SpendPanel : public QWidget {
    Q_OBJECT
public:
    SpendPanel(const ProviderHistory& history, EngineBridge& bridge, QWidget* parent = nullptr);
    SpendHistoryChart& history() { return *m_historyChart; }
    void redraw(qint64 nowMsecs);
    int pointCount(const QString& provider) const; // requests series, for tests
    // The colour a provider's line has in the requests and tokens charts (for tests).
    QColor lineColour(const QString& provider) const;

protected:
    void showEvent(QShowEvent* event) override;

private:
    struct Chart {
        QChart* chart = nullptr;
        QCategoryAxis* time = nullptr;
        QValueAxis* value = nullptr;
        QHash<QString, QLineSeries*> series;
    };
    Chart makeChart(const QString& title, const QString& unit, const QString& name);
    QLineSeries* seriesFor(Chart& chart, const QString& provider);

    const ProviderHistory& m_history;
    void showSavings();

    QLabel* m_spend;
    QLabel* m_savings = nullptr;
    SpendHistoryChart* m_historyChart;
    Chart m_requests;
    Chart m_tokens;
};
