#include "ProviderHistory.h"

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
        const auto& w = p.breaker.window;
        point.failureRate = w.calls > 0 ? static_cast<double>(w.failures) / w.calls : 0.0;
        point.p95Ms = p.figures.p95Ms;
        point.requestsPerSecond = p.figures.requestsPerSecond;
        point.inputTokens = static_cast<double>(p.figures.inputTokensTotal);
        point.outputTokens = static_cast<double>(p.figures.outputTokensTotal);
        point.spendUsd = p.spendTodayUsd;
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
