#pragma once
// Axes that read true at any size: whole-number ticks for counts (never "2, 1, 1, 0, 0"), and time axes labelled
// relative to "now" (or by clock time ending in "now") with a handful of short labels that never collide or elide.
#include <QList>
#include <QString>

class QChart;
class QValueAxis;
class QCategoryAxis;

namespace chartaxes {

// 0 .. a whole multiple of a 1-2-5 step ≥ 1 that covers `peak`, with ticks on each step and "%d" labels.
void setCountRange(QValueAxis* axis, double peak, int maxTicks = 6);
// 0 .. a multiple of a 1-2-5 step of any size (0.002, 0.5, 20) covering max(peak, minimumTop), ticks on each
// step, labels in `format` ("$%.3f", "%.1f /s").
void setNiceRange(QValueAxis* axis, double peak, const QString& format, double minimumTop, int maxTicks = 6);
// 0–100 % with ticks every 25, 50 or 100 as `maxTicks` allows.
void setPercentTicks(QValueAxis* axis, int maxTicks);
// As many ticks as the chart's plot height holds without its labels colliding (Qt elides colliding labels to "…"),
// between 2 and 6.
int ticksFor(const QChart* chart);
// The tick values an axis set by setCountRange draws (for tests and tooltips).
QList<double> ticks(const QValueAxis* axis);
// A 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, 5, 10, ...) so that `peak` needs at most `maxTicks` - 1 steps.
double niceStep(double peak, int maxTicks);

// A relative time axis over [from, to] (any unit), labelled "now" at `now` and every `every` back from it:
// "-30 s" ... "now". `unitSize` is one unit in axis values, `unit` the label's suffix (" s", " min").
void setRelativeTime(QCategoryAxis* axis, double from, double to, double now, double every, double unitSize,
                     const QString& unit);
// The labels of a category axis, in order (for tests).
QStringList labels(const QCategoryAxis* axis);

} // namespace chartaxes
