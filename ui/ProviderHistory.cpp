#include "ProviderHistory.h"

namespace {
// Against the newest earlier sample at least kRateSpanMs old (or the oldest there is).
double intervalFailureRate(const std::deque<HistoryPoint>& earlier, const HistoryPoint& now) {
    if (earlier.empty()) return 0.0;
    const HistoryPoint* base = &earlier.front();
    for (auto it = earlier.rbegin(); it != earlier.rend(); ++it)
        if (now.msecs - it->msecs >= ProviderHistory::kRateSpanMs) {
            base = &*it;
            break;
        }
    // Totals only grow; a provider that came back (a reload) starts again from zero.
    if (now.attempts < base->attempts || now.errors < base->errors || now.refused < base->refused) return 0.0;
    const double calls = static_cast<double>((now.attempts - base->attempts) + (now.refused - base->refused));
    const double bad = static_cast<double>((now.errors - base->errors) + (now.refused - base->refused));
    return calls > 0 ? std::min(1.0, bad / calls) : 0.0;
}
} // namespace

bool ProviderHistory::add(const fusebox::EngineSnapshot& snapshot) {
    const qint64 now =
        std::chrono::duration_cast<std::chrono::milliseconds>(snapshot.takenAt.time_since_epoch()).count();
    if (m_last != 0 && now - m_last < kMinStepMs) return false;
    m_last = now;
    for (const auto& p : snapshot.providers) {
        const QString id = QString::fromStdString(p.id);
        if (!m_points.contains(id)) m_order << id;
        auto& points = m_points[id];
        HistoryPoint point;
        point.msecs = now;
        point.attempts = p.figures.attemptsTotal;
        point.errors = p.figures.errorsTotal;
        point.refused = p.figures.shortCircuitedTotal;
        point.failureRate = intervalFailureRate(points, point);
        point.p95Ms = p.figures.p95Ms;
        point.requestsPerSecond = p.figures.requestsPerSecond;
        point.inputTokens = static_cast<double>(p.figures.inputTokensTotal);
        point.outputTokens = static_cast<double>(p.figures.outputTokensTotal);
        point.spendUsd = p.spendTodayUsd;
        point.wastedUsd = p.wastedTodayUsd;
        points.push_back(point);
        while (!points.empty() && points.front().msecs < now - kSpanMs) points.pop_front();
    }
    emit appended();
    return true;
}

const std::deque<HistoryPoint>& ProviderHistory::points(const QString& provider) const {
    static const std::deque<HistoryPoint> empty;
    auto it = m_points.constFind(provider);
    return it == m_points.constEnd() ? empty : *it;
}
