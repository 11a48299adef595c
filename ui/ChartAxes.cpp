#include "ChartAxes.h"

#include <QCategoryAxis>
#include <QChart>
#include <QValueAxis>

#include <cmath>

namespace chartaxes {

double niceStep(double peak, int maxTicks) {
    const double intervals = std::max(1, maxTicks - 1);
    const double raw = std::max(peak, 1e-9) / intervals;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
    return 10 * magnitude;
}

void setNiceRange(QValueAxis* axis, double peak, const QString& format, double minimumTop, int maxTicks) {
    const double step = niceStep(std::max(peak, minimumTop), maxTicks);
    const double top = std::max(step, std::ceil(std::max(peak, minimumTop) / step - 1e-9) * step);
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0);
    axis->setTickInterval(step);
    axis->setLabelFormat(format);
    axis->setMinorTickCount(0);
    axis->setRange(0, top);
}

void setCountRange(QValueAxis* axis, double peak, int maxTicks) {
    // Whole numbers only: a step below 1 would repeat labels ("2, 1, 1, 0, 0").
    const double step = std::max(1.0, niceStep(std::max(1.0, std::ceil(peak)), maxTicks));
    const double top = std::max(step, std::ceil(std::max(1.0, peak) / step) * step);
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0);
    axis->setTickInterval(step);
    axis->setLabelFormat("%d");
    axis->setMinorTickCount(0);
    axis->setRange(0, top);
}

void setPercentTicks(QValueAxis* axis, int maxTicks) {
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(0);
    axis->setTickInterval(maxTicks >= 5 ? 25 : maxTicks >= 3 ? 50 : 100);
    axis->setMinorTickCount(0);
    axis->setRange(0, 100);
}

int ticksFor(const QChart* chart) {
    return std::clamp(static_cast<int>(chart->plotArea().height()) / 24 + 1, 2, 6);
}

QList<double> ticks(const QValueAxis* axis) {
    QList<double> out;
    if (axis->tickType() == QValueAxis::TicksDynamic && axis->tickInterval() > 0) {
        for (double v = axis->tickAnchor(); v <= axis->max() + 1e-9; v += axis->tickInterval())
            if (v >= axis->min() - 1e-9) out << v;
        return out;
    }
    const int n = axis->tickCount();
    for (int i = 0; i < n; ++i) out << axis->min() + (axis->max() - axis->min()) * i / std::max(1, n - 1);
    return out;
}

void setRelativeTime(QCategoryAxis* axis, double from, double to, double now, double every, double unitSize,
                     const QString& unit) {
    const QStringList old = axis->categoriesLabels();
    for (const QString& label : old) axis->remove(label);
    axis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    axis->setStartValue(from);
    // Oldest first: QCategoryAxis wants increasing end values.
    const int steps = static_cast<int>(std::floor((now - from) / every + 1e-9));
    for (int i = steps; i >= 1; --i)
        axis->append(QString("-%1%2").arg(std::lround(i * every / unitSize)).arg(unit), now - i * every);
    axis->append("now", now);
    axis->setRange(from, to);
}

QStringList labels(const QCategoryAxis* axis) { return const_cast<QCategoryAxis*>(axis)->categoriesLabels(); } // not const in Qt

} // namespace chartaxes
