#include "SpendHistoryChart.h"

#include "ChartAxes.h"
#include "EngineBridge.h"
#include "ProviderPalette.h"

#include <QCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QStackedBarSeries>
#include <QTimer>
#include <QValueAxis>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

namespace {
constexpr int kRefreshMs = 10'000; // spend moves slowly; the report reads the journal, so not at 10 Hz
}

SpendHistoryChart::SpendHistoryChart(EngineBridge& bridge, QWidget* parent)
    : QWidget(parent), m_bridge(bridge), m_watcher(new QFutureWatcher<fusebox::SpendReport>(this)),
      m_span(new QComboBox(this)), m_chart(new QChart), m_time(new QCategoryAxis(m_chart)),
      m_usd(new QValueAxis(m_chart)), m_timer(new QTimer(this)) {
    setObjectName("spendHistory");
    m_span->setObjectName("spendSpan");
    m_span->addItem("Per minute, last hour");
    m_span->addItem("Per hour, last day");
    m_chart->setTitle("Spend per provider (USD, priced attempts)");
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chart->addAxis(m_time, Qt::AlignBottom);
    m_chart->addAxis(m_usd, Qt::AlignLeft);
    m_usd->setTitleText("USD");
    auto* view = new QChartView(m_chart, this);
    view->setObjectName("spendHistoryChart");
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(150);
    view->setFocusPolicy(Qt::NoFocus);
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel("Show", this));
    top->addWidget(m_span);
    top->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(view, 1);
    connect(m_watcher, &QFutureWatcher<fusebox::SpendReport>::finished, this, [this] {
        draw(m_query, m_watcher->result());
        if (std::exchange(m_refreshAgain, false)) refresh();
    });
    connect(m_span, &QComboBox::currentIndexChanged, this, &SpendHistoryChart::refresh);
    connect(m_timer, &QTimer::timeout, this, &SpendHistoryChart::refresh);
    m_timer->start(kRefreshMs);
    refresh();
}

SpendHistoryChart::~SpendHistoryChart() {
    m_watcher->waitForFinished();
}

void SpendHistoryChart::refresh() {
    if (m_watcher->isRunning()) {
        m_refreshAgain = true;
        return;
    }
    Query query;
    query.perMinute = m_span->currentIndex() == 0;
    query.step = query.perMinute ? 60 : 3600;
    query.now = QDateTime::currentSecsSinceEpoch();
    query.first = (query.now - (query.perMinute ? 3600 : 86400)) / query.step * query.step + query.step;
    m_query = query;
    EngineBridge* bridge = &m_bridge;
    const auto bucket = query.perMinute ? fusebox::SpendBucket::Minute : fusebox::SpendBucket::Hour;
    m_watcher->setFuture(QtConcurrent::run([bridge, bucket, first = query.first] {
        return bridge->spendReport(bucket, first);
    }));
}

void SpendHistoryChart::draw(const Query& query, const fusebox::SpendReport& report) {
    const bool perMinute = query.perMinute;
    const qint64 step = query.step, now = query.now, first = query.first;

    std::set<std::string> providers;
    std::map<std::pair<std::string, qint64>, double> usd;
    for (const auto& row : report.buckets) {
        providers.insert(row.provider);
        usd[{row.provider, row.t}] += row.usd;
    }
    if (m_series) {
        m_chart->removeSeries(m_series);
        delete m_series;
    }
    m_series = new QStackedBarSeries;
    // Bars sit at x = 0 .. n-1. A label every 10 minutes (or 4 hours), by local clock time, the newest bucket "now":
    // a few short labels that fit at any width (a label per bar collided, and Qt elided them all to "…").
    QStringList labels;
    for (qint64 t = first; t <= now; t += step) labels << QString();
    const qint64 labelEvery = perMinute ? 600 : 4 * 3600;
    for (int i = m_time->categoriesLabels().size() - 1; i >= 0; --i) m_time->remove(m_time->categoriesLabels()[i]);
    m_time->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    m_time->setStartValue(-0.5);
    for (qsizetype i = 0; i + 1 < labels.size(); ++i) {
        const qint64 t = first + i * step;
        // No clock label within a twelfth of the span of "now": the two would print over each other.
        if (t % labelEvery == 0 && (labels.size() - 1 - i) * 12 >= labels.size())
            m_time->append(QDateTime::fromSecsSinceEpoch(t).toString(perMinute ? "HH:mm" : "ddd HH:mm"), double(i));
    }
    m_time->append("now", double(labels.size() - 1));
    m_time->setRange(-0.5, labels.size() - 0.5);
    double top = 0, total = 0;
    std::vector<double> stacked(static_cast<std::size_t>(labels.size()), 0.0);
    for (const auto& provider : providers) {
        auto* set = new QBarSet(QString::fromStdString(provider));
        set->setColor(ProviderPalette::colour(QString::fromStdString(provider)));
        set->setBorderColor(set->color());
        std::size_t i = 0;
        for (qint64 t = first; t <= now; t += step, ++i) {
            const auto it = usd.find({provider, t});
            const double value = it == usd.end() ? 0.0 : it->second;
            *set << value;
            stacked[i] += value;
            total += value;
        }
        m_series->append(set);
    }
    for (double v : stacked) top = std::max(top, v);
    m_chart->addSeries(m_series);
    m_series->attachAxis(m_time);
    m_series->attachAxis(m_usd);
    // A few round dollar figures, with as many decimals as the step needs.
    const double usdStep = chartaxes::niceStep(std::max(top, 0.001), 6);
    const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(usdStep))), 0, 6);
    chartaxes::setNiceRange(m_usd, top, QString("$%.%1f").arg(decimals), 0.001, chartaxes::ticksFor(m_chart));
    m_saved = report.saved;
    m_wastedUsd = 0;
    for (const auto& row : report.buckets) m_wastedUsd += row.wastedUsd;
    m_shownUsd = total;
    m_buckets = static_cast<int>(labels.size());
    ++m_refreshes;
    emit drawn();
}

QColor SpendHistoryChart::barColour(const QString& provider) const {
    if (m_series == nullptr) return {};
    for (QBarSet* set : m_series->barSets())
        if (set->label() == provider) return set->color();
    return {};
}
