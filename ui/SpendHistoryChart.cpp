#include "SpendHistoryChart.h"

#include "EngineBridge.h"

#include <QBarCategoryAxis>
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

#include <map>
#include <set>
#include <utility>

namespace {
constexpr int kRefreshMs = 10'000; // spend moves slowly; the report reads the journal, so not at 10 Hz
}

SpendHistoryChart::SpendHistoryChart(EngineBridge& bridge, QWidget* parent)
    : QWidget(parent), m_bridge(bridge), m_span(new QComboBox(this)), m_chart(new QChart),
      m_time(new QBarCategoryAxis(m_chart)), m_usd(new QValueAxis(m_chart)), m_timer(new QTimer(this)),
      m_watcher(new QFutureWatcher<fusebox::SpendReport>(this)) {
    setObjectName("spendHistory");
    m_span->setObjectName("spendSpan");
    m_span->addItem("Per minute, last hour");
    m_span->addItem("Per hour, last day");
    m_chart->setTitle("Spend per provider (USD, priced attempts)");
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chart->addAxis(m_time, Qt::AlignBottom);
    m_chart->addAxis(m_usd, Qt::AlignLeft);
    m_usd->setLabelFormat("$%.4f");
    auto* view = new QChartView(m_chart, this);
    view->setObjectName("spendHistoryChart");
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(150);
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
    QStringList labels;
    for (qint64 t = first; t <= now; t += step)
        labels << QDateTime::fromSecsSinceEpoch(t).toString(perMinute ? "HH:mm" : "dd HH:00");
    double top = 0, total = 0;
    std::vector<double> stacked(static_cast<std::size_t>(labels.size()), 0.0);
    for (const auto& provider : providers) {
        auto* set = new QBarSet(QString::fromStdString(provider));
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
    m_time->clear();
    m_time->append(labels);
    m_time->setLabelsAngle(-60); // sixty upright labels would collide
    m_series->attachAxis(m_time);
    m_series->attachAxis(m_usd);
    m_usd->setRange(0, top > 0 ? top * 1.15 : 0.01);
    m_shownUsd = total;
    m_buckets = static_cast<int>(labels.size());
    ++m_refreshes;
}
