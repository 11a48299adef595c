#include "spend/SpendLedger.h"

#include "core/TimeFormat.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

namespace fusebox {

namespace {

constexpr int64_t kDay = 86400;

int64_t unixSeconds(WallTime t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string money(double usd) {
    char buffer[64];
    // Cents when the amount has no finer part ($5.00), else as written ($0.0002).
    if (std::fabs(usd * 100 - std::round(usd * 100)) < 1e-9) std::snprintf(buffer, sizeof buffer, "%.2f", usd);
    else std::snprintf(buffer, sizeof buffer, "%g", usd);
    return buffer;
}

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

} // namespace

bool failedAttempt(Outcome o) {
    return o != Outcome::Success && o != Outcome::ShortCircuited && o != Outcome::ClientError &&
           o != Outcome::Cancelled;
}

const char* const kAttemptsCsvHeader =
    "time,request_id,route,provider,model,outcome,status,ttfb_ms,duration_ms,input_tokens,output_tokens,usd,"
    "delivered\r\n";

std::string attemptCsvRow(const AttemptRecord& a) {
    std::string usd;
    if (a.costUsd) {
        char buffer[48];
        std::snprintf(buffer, sizeof buffer, "%.8f", *a.costUsd);
        usd = buffer;
    }
    std::string row = isoTime(a.at);
    // append, not "," + string: GCC 12 warns falsely (-Wrestrict) on that form.
    for (const std::string* s : {&a.requestId, &a.route, &a.provider, &a.model}) row.append(",").append(csvField(*s));
    row += "," + std::string(outcomeName(a.outcome));
    row += "," + std::to_string(a.status);
    row += "," + std::to_string(a.timeToFirstByte.count());
    row += "," + std::to_string(a.duration.count());
    row += "," + std::to_string(a.usage.inputTokens);
    row += "," + std::to_string(a.usage.outputTokens);
    row += "," + usd; // empty when unpriced, never 0
    row += a.delivered ? ",true" : ",false";
    return row + "\r\n";
}

SpendSaved estimateSaved(const std::vector<ProviderFailureTotals>& totals) {
    SpendSaved saved;
    for (const auto& t : totals) {
        saved.shortCircuited += t.refused;
        if (t.refused == 0) continue;
        if (t.failures > 0) saved.estSeconds += t.refused * t.failureSeconds / t.failures;
        if (t.pricedFailures > 0) saved.estUsd += t.refused * t.failureUsd / t.pricedFailures;
    }
    return saved;
}

SpendSaved estimateSaved(const std::vector<AttemptRecord>& attempts) {
    std::map<std::string, ProviderFailureTotals> by;
    for (const auto& a : attempts) {
        ProviderFailureTotals& t = by[a.provider];
        t.provider = a.provider;
        if (a.outcome == Outcome::ShortCircuited) ++t.refused;
        else if (failedAttempt(a.outcome)) {
            ++t.failures;
            t.failureSeconds += std::chrono::duration<double>(a.duration).count();
            if (a.costUsd) ++t.pricedFailures, t.failureUsd += *a.costUsd;
        }
    }
    std::vector<ProviderFailureTotals> totals;
    for (auto& entry : by) totals.push_back(std::move(entry.second));
    return estimateSaved(totals);
}

SpendLedger::SpendLedger(Clock& clock, std::vector<std::string> providers,
                         std::vector<std::optional<double>> budgets, std::size_t keepAttempts)
    : m_clock(clock), m_keep(keepAttempts) {
    for (std::size_t i = 0; i < providers.size(); ++i)
        m_providers.push_back({providers[i], i < budgets.size() ? budgets[i] : std::nullopt});
}

int64_t SpendLedger::utcDay() const {
    const int64_t s = unixSeconds(m_clock.wallNow());
    return s >= 0 ? s / kDay : (s - kDay + 1) / kDay;
}

void SpendLedger::rollDay(Provider& p) const {
    const int64_t today = utcDay();
    if (p.day == today) return;
    p.day = today;
    p.spendToday = p.wastedToday = p.budgetSpend = p.fleetSpend = 0;
}

int64_t SpendLedger::bucketSeconds(SpendBucket bucket) {
    switch (bucket) {
    case SpendBucket::Minute: return 60;
    case SpendBucket::Hour: return 3600;
    case SpendBucket::Day: return kDay;
    }
    return 60;
}

void SpendLedger::record(const AttemptRecord& attempt) {
    std::lock_guard lock(m_mutex);
    if (attempt.providerIndex < m_providers.size()) {
        Provider& p = m_providers[attempt.providerIndex];
        rollDay(p);
        if (attempt.costUsd) {
            p.spendToday += *attempt.costUsd;
            p.budgetSpend += *attempt.costUsd;
            if (wasted(attempt)) p.wastedToday += *attempt.costUsd;
        } else if (attempt.usage.reported && attempt.outcome != Outcome::ShortCircuited) {
            ++p.unpriced;
        }
    }
    if (m_keep == 0) return;
    m_attempts.push_back(attempt);
    while (m_attempts.size() > m_keep) m_attempts.pop_front();
}

void SpendLedger::restoreToday(std::size_t provider, double usd, double wastedUsd, uint64_t unpriced) {
    std::lock_guard lock(m_mutex);
    if (provider >= m_providers.size()) return;
    Provider& p = m_providers[provider];
    rollDay(p);
    p.spendToday += usd;
    p.budgetSpend += usd;
    p.wastedToday += wastedUsd;
    p.unpriced += unpriced;
}

void SpendLedger::setKeptAttempts(std::size_t n) {
    std::lock_guard lock(m_mutex);
    m_keep = n;
    while (m_attempts.size() > m_keep) m_attempts.pop_front();
}

std::optional<BudgetRefusal> SpendLedger::checkBudget(std::size_t provider) const {
    std::lock_guard lock(m_mutex);
    if (provider >= m_providers.size()) return std::nullopt;
    Provider& p = m_providers[provider];
    if (!p.budget) return std::nullopt;
    rollDay(p);
    if (p.budgetSpend + p.fleetSpend < *p.budget) return std::nullopt;
    const double now = std::chrono::duration<double>(m_clock.wallNow().time_since_epoch()).count();
    const double midnight = static_cast<double>((utcDay() + 1) * kDay);
    return BudgetRefusal{"daily budget $" + money(*p.budget) + " reached", std::max(0.0, midnight - now)};
}

void SpendLedger::resetBudget(std::size_t provider) {
    std::lock_guard lock(m_mutex);
    if (provider >= m_providers.size()) return;
    rollDay(m_providers[provider]);
    m_providers[provider].budgetSpend = 0;
    m_providers[provider].fleetSpend = 0;
}

void SpendLedger::setFleetSpend(std::size_t provider, double othersUsd) {
    std::lock_guard lock(m_mutex);
    if (provider >= m_providers.size()) return;
    rollDay(m_providers[provider]);
    m_providers[provider].fleetSpend = othersUsd;
}

double SpendLedger::budgetSpendToday(std::size_t provider) const {
    std::lock_guard lock(m_mutex);
    if (provider >= m_providers.size()) return 0;
    rollDay(m_providers[provider]);
    return m_providers[provider].budgetSpend;
}

ProviderSpend SpendLedger::spend(std::size_t provider) const {
    std::lock_guard lock(m_mutex);
    if (provider >= m_providers.size()) return {};
    Provider& p = m_providers[provider];
    rollDay(p);
    return {p.spendToday, p.wastedToday, p.unpriced, p.fleetSpend};
}

SpendReport SpendLedger::report(SpendBucket bucket, WallTime since) const {
    std::vector<AttemptRecord> window;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& a : m_attempts)
            if (a.at >= since) window.push_back(a);
    }
    return buildSpendReport(window, bucket);
}

SpendReport buildSpendReport(const std::vector<AttemptRecord>& window, SpendBucket bucket) {
    const int64_t width = SpendLedger::bucketSeconds(bucket);
    std::map<std::pair<int64_t, std::string>, SpendBucketRow> rows;
    for (const auto& a : window) {
        if (a.outcome == Outcome::ShortCircuited) continue;
        const int64_t s = unixSeconds(a.at);
        const int64_t t = (s >= 0 ? s / width : (s - width + 1) / width) * width;
        SpendBucketRow& row = rows[{t, a.provider}];
        row.t = t;
        row.provider = a.provider;
        ++row.requests;
        row.inputTokens += static_cast<uint64_t>(a.usage.inputTokens);
        row.outputTokens += static_cast<uint64_t>(a.usage.outputTokens);
        if (a.costUsd) {
            row.usd += *a.costUsd;
            if (SpendLedger::wasted(a)) row.wastedUsd += *a.costUsd;
        } else if (a.usage.reported) {
            ++row.unpriced;
        }
    }
    SpendReport report;
    for (auto& [key, row] : rows) report.buckets.push_back(std::move(row));
    report.saved = estimateSaved(window);
    return report;
}

std::string SpendLedger::attemptsCsv(WallTime since, WallTime until) const {
    std::string csv = kAttemptsCsvHeader;
    std::lock_guard lock(m_mutex);
    for (const auto& a : m_attempts)
        if (a.at >= since && a.at < until) csv += attemptCsvRow(a);
    return csv;
}

} // namespace fusebox
