#include "SpendPanel.h"

#include "ProviderHistory.h"
#include "SpendHistoryChart.h"

#include <QChart>
#include <QChartView>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QLabel>
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
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_spend);
    layout->addWidget(m_historyChart, 1);
    m_requests = makeChart("Requests per second", "%.1f /s", "requestsChart");
    m_tokens = makeChart("Tokens since start (input + output)", "%d", "tokensChart");
    for (auto* chart : {m_requests.chart, m_tokens.chart}) {
        auto* view = new QChartView(chart, this);
        view->setObjectName(chart->objectName());
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumHeight(140);
        layout->addWidget(view, 1);
    }
}

SpendPanel::Chart SpendPanel::makeChart(const QString& title, const QString& unit, const QString& name) {
    Chart c;
    c.chart = new QChart;
    c.chart->setObjectName(name);
    c.chart->setTitle(title);
    c.chart->legend()->setAlignment(Qt::AlignBottom);
    c.chart->setMargins(QMargins(4, 4, 4, 4));
    c.time = new QDateTimeAxis(c.chart);
    c.time->setFormat("HH:mm");
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
            requests << QPointF(p.msecs, p.requestsPerSecond);
            tokens << QPointF(p.msecs, p.inputTokens + p.outputTokens);
            maxRequests = std::max(maxRequests, p.requestsPerSecond);
            maxTokens = std::max(maxTokens, p.inputTokens + p.outputTokens);
        }
        if (!m_history.points(id).empty() && m_history.points(id).back().spendUsd)
            spend = spend.value_or(0) + *m_history.points(id).back().spendUsd;
        seriesFor(m_requests, id)->replace(requests);
        seriesFor(m_tokens, id)->replace(tokens);
    }
    for (Chart* c : {&m_requests, &m_tokens})
        c->time->setRange(QDateTime::fromMSecsSinceEpoch(now - ProviderHistory::kSpanMs), QDateTime::fromMSecsSinceEpoch(now));
    m_requests.value->setRange(0, std::ceil(maxRequests * 1.2));
    m_tokens.value->setRange(0, std::ceil(maxTokens * 1.1));
    if (spend) m_spend->setText(QString("Spend today (UTC): $%1").arg(*spend, 0, 'f', 4));
}
