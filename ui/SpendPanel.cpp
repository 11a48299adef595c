#include "SpendPanel.h"

#include "ChartAxes.h"
#include "ProviderHistory.h"
#include "ProviderPalette.h"
#include "SpendHistoryChart.h"

#include <QChart>
#include <QChartView>
#include <QCategoryAxis>
#include <QHBoxLayout>
#include <QLabel>
#include <QShowEvent>
#include <QLineSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include <cmath>

SpendPanel::SpendPanel(const ProviderHistory& history, EngineBridge& bridge, QWidget* parent)
    : QWidget(parent), m_history(history), m_spend(new QLabel(this)),
      m_historyChart(new SpendHistoryChart(bridge, this)) {
    setObjectName("spendPanel");
    m_spend->setObjectName("spendSummary");
    m_spend->setText("Spend today: — (no attempts yet)");
    m_savings = new QLabel(this);
    m_savings->setObjectName("spendSavings");
    m_savings->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_spend);
    layout->addWidget(m_savings);
    connect(m_historyChart, &SpendHistoryChart::drawn, this, &SpendPanel::showSavings);
    layout->addWidget(m_historyChart, 1);
    m_requests = makeChart("Requests per second", "%.1f /s", "requestsChart");
    m_tokens = makeChart("Tokens since start (input + output)", "%d", "tokensChart");
    chartaxes::setCountRange(m_tokens.value, 10);
    // Side by side under the spend chart: each keeps enough height for its axis at 1024×700.
    auto* row = new QHBoxLayout;
    for (auto* chart : {m_requests.chart, m_tokens.chart}) {
        auto* view = new QChartView(chart, this);
        view->setObjectName(chart->objectName());
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumHeight(120);
        view->setFocusPolicy(Qt::NoFocus);
        row->addWidget(view, 1);
    }
    layout->addLayout(row, 1);
}

SpendPanel::Chart SpendPanel::makeChart(const QString& title, const QString& unit, const QString& name) {
    Chart c;
    c.chart = new QChart;
    c.chart->setObjectName(name);
    c.chart->setTitle(title);
    c.chart->legend()->setAlignment(Qt::AlignBottom);
    c.chart->setMargins(QMargins(4, 4, 4, 4));
    // x is milliseconds before now: "-15 min" ... "now", labels that stay put while the lines move.
    c.time = new QCategoryAxis(c.chart);
    chartaxes::setRelativeTime(c.time, -ProviderHistory::kSpanMs, 0, 0, 5 * 60'000, 60'000, " min");
    c.value = new QValueAxis(c.chart);
    c.value->setLabelFormat(unit);
    c.chart->addAxis(c.time, Qt::AlignBottom);
    c.chart->addAxis(c.value, Qt::AlignLeft);
    return c;
}

QLineSeries* SpendPanel::seriesFor(Chart& chart, const QString& provider) {
    if (auto* s = chart.series.value(provider)) return s;
    auto* s = new QLineSeries(chart.chart);
    s->setName(provider);
    s->setPen(QPen(ProviderPalette::colour(provider), 2));
    chart.chart->addSeries(s);
    s->attachAxis(chart.time);
    s->attachAxis(chart.value);
    chart.series.insert(provider, s);
    return s;
}

int SpendPanel::pointCount(const QString& provider) const {
    auto* s = m_requests.series.value(provider);
    return s ? static_cast<int>(s->count()) : 0;
}

void SpendPanel::redraw(qint64 now) {
    double maxRequests = 1, maxTokens = 10;
    std::optional<double> spend;
    for (const QString& id : m_history.providers()) {
        QList<QPointF> requests, tokens;
        for (const auto& p : m_history.points(id)) {
            requests << QPointF(p.msecs - now, p.requestsPerSecond);
            tokens << QPointF(p.msecs - now, p.inputTokens + p.outputTokens);
            maxRequests = std::max(maxRequests, p.requestsPerSecond);
            maxTokens = std::max(maxTokens, p.inputTokens + p.outputTokens);
        }
        if (!m_history.points(id).empty() && m_history.points(id).back().spendUsd)
            spend = spend.value_or(0) + *m_history.points(id).back().spendUsd;
        seriesFor(m_requests, id)->replace(requests);
        seriesFor(m_tokens, id)->replace(tokens);
    }
    chartaxes::setNiceRange(m_requests.value, maxRequests, maxRequests < 5 ? "%.1f /s" : "%.0f /s", 1,
                            chartaxes::ticksFor(m_requests.chart));
    chartaxes::setCountRange(m_tokens.value, maxTokens, chartaxes::ticksFor(m_tokens.chart));
    double wasted = 0;
    for (const QString& id : m_history.providers())
        if (!m_history.points(id).empty()) wasted += m_history.points(id).back().wastedUsd;
    if (spend)
        m_spend->setText(QString("Spend today (UTC): $%1, of which wasted $%2 (answers that did not reach the client "
                                 "whole)")
                             .arg(*spend, 0, 'f', 4)
                             .arg(wasted, 0, 'f', 4));
}

void SpendPanel::showSavings() {
    const auto& saved = m_historyChart->saved();
    const QString span = m_historyChart->perMinute() ? "last hour" : "last day";
    m_savings->setText(QString("Saved by the breakers (%1, estimated): $%2 and %3 of waiting, by refusing %4 calls "
                               "to failing providers at once instead of sending them.")
                           .arg(span)
                           .arg(saved.estUsd, 0, 'f', 4)
                           .arg(saved.estSeconds >= 60 ? QString::number(saved.estSeconds / 60.0, 'f', 1) + " min"
                                                       : QString::number(saved.estSeconds, 'f', 0) + " s")
                           .arg(saved.shortCircuited));
}

QColor SpendPanel::lineColour(const QString& provider) const {
    auto* s = m_requests.series.value(provider);
    return s ? s->pen().color() : QColor();
}

void SpendPanel::showEvent(QShowEvent* event) {
    // The spend report refreshes every 10 s; an operator who opens the tab in an incident sees it as of now.
    m_historyChart->refresh();
    QWidget::showEvent(event);
}
