#include "ChartsPanel.h"

#include "ProviderHistory.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineSeries>
#include <QStackedBarSeries>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>

using fusebox::Outcome;

namespace {

// Disjoint classes, so the stack height is the calls of that second ("slow" is taken out of "success").
struct Layer {
    const char* name;
    QColor colour;
};
const Layer kLayers[] = {{"success", QColor(0x43, 0xa0, 0x47)},      {"slow", QColor(0xfb, 0xc0, 0x2d)},
                         {"failure", QColor(0xd3, 0x2f, 0x2f)},      {"rate_limited", QColor(0x8e, 0x24, 0xaa)},
                         {"short_circuited", QColor(0x75, 0x75, 0x75)}, {"client_error", QColor(0x1e, 0x88, 0xe5)}};

double layerValue(int layer, const fusebox::WindowCounts& c) {
    switch (layer) {
    case 0: return static_cast<double>(c.count(Outcome::Success)) - std::min<double>(c.slow, c.count(Outcome::Success));
    case 1: return c.slow;
    case 2: return c.failures;
    case 3: return c.count(Outcome::RateLimited);
    case 4: return c.count(Outcome::ShortCircuited);
    case 5: return c.count(Outcome::ClientError);
    }
    return 0;
}

QChartView* viewOf(QChart* chart, QWidget* parent, const QString& name) {
    chart->legend()->setAlignment(Qt::AlignBottom);
    QFont font = chart->legend()->font();
    font.setPointSizeF(7.5);
    chart->legend()->setFont(font);
    chart->setMargins(QMargins(4, 4, 4, 4));
    auto* view = new QChartView(chart, parent);
    view->setObjectName(name);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(220);
    return view;
}

} // namespace

ChartsPanel::ChartsPanel(const ProviderHistory& history, QWidget* parent)
    : QWidget(parent), m_history(history), m_provider(new QComboBox(this)) {
    setObjectName("chartsPanel");
    m_provider->setObjectName("chartProvider");
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel("Provider", this));
    bar->addWidget(m_provider);
    bar->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    buildWindowChart();
    buildTrendChart();
    layout->addWidget(m_windowView, 1);
    layout->addWidget(m_trendView, 1);
}

void ChartsPanel::buildWindowChart() {
    auto* chart = new QChart;
    chart->setTitle("Breaker window: calls per second by outcome");
    m_bars = new QStackedBarSeries(chart);
    m_bars->setBarWidth(0.9);
    for (const Layer& layer : kLayers) {
        auto* set = new QBarSet(QString(layer.name).replace('_', ' '));
        set->setColor(layer.colour);
        set->setBorderColor(layer.colour);
        m_bars->append(set);
        m_sets << set;
    }
    chart->addSeries(m_bars);
    m_barAxis = new QBarCategoryAxis(chart);
    m_barAxis->setGridLineVisible(false);
    m_barAxis->setLabelsVisible(false); // one bar a second, oldest left, the newest second at the right edge
    m_barAxis->setTitleVisible(false);
    m_countAxis = new QValueAxis(chart);
    m_countAxis->setLabelFormat("%d");
    m_countAxis->setTitleText("calls");
    chart->addAxis(m_barAxis, Qt::AlignBottom);
    chart->addAxis(m_countAxis, Qt::AlignLeft);
    m_bars->attachAxis(m_barAxis);
    m_bars->attachAxis(m_countAxis);

    // The threshold is a rate, so it has its own 0–100 % axis on the right. (A per-second failure-rate line was
    // tried and dropped: while the breaker refuses, seconds have no calls, and the line read as nonsense.)
    auto* rateAxis = new QValueAxis(chart);
    rateAxis->setRange(0, 100);
    rateAxis->setLabelFormat("%d %%");
    rateAxis->setTitleText("failure rate");
    m_thresholdX = new QValueAxis(chart);
    m_thresholdX->setVisible(false);
    chart->addAxis(rateAxis, Qt::AlignRight);
    chart->addAxis(m_thresholdX, Qt::AlignTop);
    m_threshold = new QLineSeries(chart);
    m_threshold->setName("threshold");
    QPen pen(QColor(0xb7, 0x1c, 0x1c));
    pen.setStyle(Qt::DashLine);
    pen.setWidth(2);
    m_threshold->setPen(pen);
    chart->addSeries(m_threshold);
    m_threshold->attachAxis(m_thresholdX);
    m_threshold->attachAxis(rateAxis);
    m_windowView = viewOf(chart, this, "windowChart");
}

void ChartsPanel::buildTrendChart() {
    auto* chart = new QChart;
    chart->setTitle("Last 15 minutes");
    m_failureTrend = new QLineSeries(chart);
    m_failureTrend->setName("failure rate (%)");
    m_failureTrend->setPen(QPen(QColor(0xd3, 0x2f, 0x2f), 2));
    m_p95Trend = new QLineSeries(chart);
    m_p95Trend->setName("p95 latency (ms)");
    m_p95Trend->setPen(QPen(QColor(0x15, 0x65, 0xc0), 2));
    chart->addSeries(m_failureTrend);
    chart->addSeries(m_p95Trend);
    m_trendTime = new QDateTimeAxis(chart);
    m_trendTime->setFormat("HH:mm");
    m_trendRate = new QValueAxis(chart);
    m_trendRate->setRange(0, 100);
    m_trendRate->setLabelFormat("%d %%");
    m_trendLatency = new QValueAxis(chart);
    m_trendLatency->setLabelFormat("%d ms");
    chart->addAxis(m_trendTime, Qt::AlignBottom);
    chart->addAxis(m_trendRate, Qt::AlignLeft);
    chart->addAxis(m_trendLatency, Qt::AlignRight);
    m_failureTrend->attachAxis(m_trendTime);
    m_failureTrend->attachAxis(m_trendRate);
    m_p95Trend->attachAxis(m_trendTime);
    m_p95Trend->attachAxis(m_trendLatency);
    m_trendView = viewOf(chart, this, "trendChart");
}

void ChartsPanel::setProviders(const QStringList& ids) {
    QStringList current;
    for (int i = 0; i < m_provider->count(); ++i) current << m_provider->itemText(i);
    if (current == ids) return;
    const QString selected = provider();
    m_provider->clear();
    m_provider->addItems(ids);
    if (ids.contains(selected)) m_provider->setCurrentText(selected);
}

QString ChartsPanel::provider() const { return m_provider->currentText(); }
void ChartsPanel::setProvider(const QString& id) { m_provider->setCurrentText(id); }

int ChartsPanel::barCount() const { return m_sets.isEmpty() ? 0 : static_cast<int>(m_sets.front()->count()); }
int ChartsPanel::trendPointCount() const { return static_cast<int>(m_failureTrend->count()); }

void ChartsPanel::show(const fusebox::EngineSnapshot& snapshot) {
    const auto* p = snapshot.findProvider(provider().toStdString());
    if (p == nullptr) return;
    const auto& b = p->breaker;
    // One bar per second of the window, oldest left; seconds with no bucket are zero.
    const int seconds = std::max(1, b.windowSeconds);
    const double now = std::floor(fusebox::toUnixSeconds(snapshot.takenAt));
    std::vector<fusebox::WindowCounts> perSecond(static_cast<std::size_t>(seconds));
    for (const auto& bucket : b.buckets) {
        const int age = static_cast<int>(now - std::floor(bucket.t));
        if (age >= 0 && age < seconds) perSecond[static_cast<std::size_t>(seconds - 1 - age)].add(bucket.counts);
    }
    QStringList categories;
    for (int i = 0; i < seconds; ++i) {
        const int age = seconds - 1 - i;
        categories << (age % 10 == 0 ? (age == 0 ? QString("now") : QString("-%1s").arg(age)) : QString(i, ' '));
    }
    if (m_barAxis->categories() != categories) {
        m_barAxis->clear();
        m_barAxis->append(categories);
    }
    double peak = 1;
    for (int layer = 0; layer < m_sets.size(); ++layer) {
        QList<qreal> values;
        for (const auto& c : perSecond) values << layerValue(layer, c);
        m_sets[layer]->remove(0, m_sets[layer]->count());
        m_sets[layer]->append(values);
    }
    for (int i = 0; i < seconds; ++i) {
        const auto& c = perSecond[static_cast<std::size_t>(i)];
        peak = std::max(peak, static_cast<double>(c.calls + c.count(Outcome::ShortCircuited)));
    }
    m_countAxis->setRange(0, std::ceil(peak * 1.15));
    m_thresholdX->setRange(-0.5, seconds - 0.5);
    const double threshold = b.policy.failureRate * 100.0;
    m_threshold->replace({QPointF(-0.5, threshold), QPointF(seconds - 0.5, threshold)});
    m_threshold->setName(QString("threshold %1 %").arg(threshold, 0, 'f', 0));

    const auto& points = m_history.points(provider());
    QList<QPointF> failure, p95;
    double worst = 100;
    for (const auto& point : points) {
        failure << QPointF(point.msecs, point.failureRate * 100.0);
        p95 << QPointF(point.msecs, point.p95Ms);
        worst = std::max(worst, point.p95Ms);
    }
    m_failureTrend->replace(failure);
    m_p95Trend->replace(p95);
    const qint64 end = std::chrono::duration_cast<std::chrono::milliseconds>(snapshot.takenAt.time_since_epoch()).count();
    m_trendTime->setRange(QDateTime::fromMSecsSinceEpoch(end - ProviderHistory::kSpanMs), QDateTime::fromMSecsSinceEpoch(end));
    m_trendLatency->setRange(0, std::ceil(worst * 1.1));
}
