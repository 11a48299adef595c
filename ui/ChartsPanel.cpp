#include "ChartsPanel.h"

#include "ChartAxes.h"
#include "Format.h"
#include "ProviderHistory.h"

#include <QBarSet>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QComboBox>
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
    QFont title = chart->titleFont();
    title.setPointSizeF(9);
    chart->setTitleFont(title);
    chart->setMargins(QMargins(4, 4, 4, 4));
    auto* view = new QChartView(chart, parent);
    view->setObjectName(name);
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(150);
    view->setFocusPolicy(Qt::NoFocus); // nothing to do in a chart by keyboard: no tab stop that shows nothing
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
        auto* set = new QBarSet(console::outcomeName(layer.name));
        set->setColor(layer.colour);
        set->setBorderColor(layer.colour);
        m_bars->append(set);
        m_sets << set;
    }
    chart->addSeries(m_bars);
    // One bar a second at x = 0 .. seconds-1, oldest left; labelled by age ("-30 s" ... "now"), a few labels only.
    m_barAxis = new QCategoryAxis(chart);
    m_barAxis->setGridLineVisible(false);
    m_barAxis->setTitleVisible(false);
    m_countAxis = new QValueAxis(chart);
    m_countAxis->setTitleText("calls");
    chartaxes::setCountRange(m_countAxis, 1);
    chart->addAxis(m_barAxis, Qt::AlignBottom);
    chart->addAxis(m_countAxis, Qt::AlignLeft);
    m_bars->attachAxis(m_barAxis);
    m_bars->attachAxis(m_countAxis);

    // The threshold is a rate and the bars are counts: a dashed line at "50 %" on a second axis crossed the count
    // axis at some number of calls and was read as one. The title says the window's rate and the threshold instead.
    m_windowView = viewOf(chart, this, "windowChart");
}

void ChartsPanel::buildTrendChart() {
    auto* chart = new QChart;
    chart->setTitle("Last 15 minutes");
    m_failureTrend = new QLineSeries(chart);
    m_failureTrend->setName("failed or refused (% of calls, per 10 s)");
    m_failureTrend->setPen(QPen(QColor(0xd3, 0x2f, 0x2f), 2));
    m_p95Trend = new QLineSeries(chart);
    m_p95Trend->setName("p95 latency (ms)");
    m_p95Trend->setPen(QPen(QColor(0x15, 0x65, 0xc0), 2));
    chart->addSeries(m_failureTrend);
    chart->addSeries(m_p95Trend);
    m_trendTime = new QCategoryAxis(chart);
    m_trendTime->setGridLineVisible(true);
    m_trendRate = new QValueAxis(chart);
    m_trendRate->setRange(0, 100);
    m_trendRate->setLabelFormat("%d %%");
    m_trendLatency = new QValueAxis(chart);
    m_trendLatency->setTitleText("p95");
    m_trendRate->setTitleText("failed or refused");
    chartaxes::setCountRange(m_trendLatency, 100);
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

QList<double> ChartsPanel::countTicks() const { return chartaxes::ticks(m_countAxis); }
QStringList ChartsPanel::windowTimeLabels() const { return chartaxes::labels(m_barAxis); }
QStringList ChartsPanel::trendTimeLabels() const { return chartaxes::labels(m_trendTime); }
double ChartsPanel::trendPeakMsecs() const {
    double peak = -1, at = 0;
    for (const QPointF& p : m_failureTrend->points())
        if (p.y() > peak) {
            peak = p.y();
            at = p.x();
        }
    return at;
}

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
    if (m_barSeconds != seconds) {
        m_barSeconds = seconds;
        // "now" under the newest bar's centre.
        chartaxes::setRelativeTime(m_barAxis, -0.5, seconds - 0.5, seconds - 1, seconds > 30 ? 20 : 10, 1, " s");
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
    // As many ticks as the plot's height holds without labels colliding (Qt elides colliding labels to "…"), and
    // axis titles only where there is room: at 1024×700 a chart is barely 100 px tall.
    const int windowTicks = chartaxes::ticksFor(m_windowView->chart());
    const int trendTicks = chartaxes::ticksFor(m_trendView->chart());
    m_countAxis->setTitleVisible(windowTicks >= 4);
    for (QValueAxis* axis : {m_trendRate, m_trendLatency}) axis->setTitleVisible(trendTicks >= 4);
    chartaxes::setPercentTicks(m_trendRate, trendTicks);
    chartaxes::setCountRange(m_countAxis, peak, windowTicks);
    const auto& w = b.window;
    m_windowView->chart()->setTitle(
        QString("Breaker window, last %1 s: %2 of %3 calls failed (%4), opens at %5 %6")
            .arg(seconds)
            .arg(w.failures)
            .arg(w.calls)
            .arg(console::percent(w.calls ? static_cast<double>(w.failures) / w.calls : 0.0))
            .arg(b.policy.failureRate * 100.0, 0, 'f', 0)
            .arg(b.policy.minCalls > 1 ? QString("% (with %1+ calls)").arg(b.policy.minCalls) : QString("%")));

    const auto& points = m_history.points(provider());
    QList<QPointF> failure, p95;
    double worst = 1;
    for (const auto& point : points) {
        failure << QPointF(point.msecs, point.failureRate * 100.0);
        p95 << QPointF(point.msecs, point.p95Ms);
        worst = std::max(worst, point.p95Ms);
    }
    // x is milliseconds before the snapshot (so "now" is 0), which keeps the labels fixed while the lines move.
    const qint64 end = std::chrono::duration_cast<std::chrono::milliseconds>(snapshot.takenAt.time_since_epoch()).count();
    for (QPointF& p : failure) p.setX(p.x() - end);
    for (QPointF& p : p95) p.setX(p.x() - end);
    m_failureTrend->replace(failure);
    m_p95Trend->replace(p95);
    if (m_trendTime->categoriesLabels().isEmpty())
        chartaxes::setRelativeTime(m_trendTime, -ProviderHistory::kSpanMs, 0, 0, 5 * 60'000, 60'000, " min");
    chartaxes::setCountRange(m_trendLatency, worst, trendTicks);
    m_trendLatency->setLabelFormat("%d ms");
}
