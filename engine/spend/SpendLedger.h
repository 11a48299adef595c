#pragma once
// Spend in memory: today's (UTC) spend and waste per provider, the daily budget gate, and the recent attempts
// behind Engine::spendReport / attemptsCsv. Fed by Engine::onAttempt from any I/O thread; one short lock.
#include "core/Clock.h"
#include "routing/AttemptRecord.h"

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fusebox {

enum class SpendBucket { Minute, Hour, Day };

struct SpendBucketRow {
    int64_t t = 0; // bucket start, unix seconds (UTC)
    std::string provider;
    uint64_t requests = 0; // attempts that reached the provider (refusals excluded)
    uint64_t inputTokens = 0;
    uint64_t outputTokens = 0;
    double usd = 0;
    double wastedUsd = 0;
    uint64_t unpriced = 0; // attempts with tokens but no price (their usd is not in `usd`)
};

struct SpendSaved {
    uint64_t shortCircuited = 0;
    double estUsd = 0;
    double estSeconds = 0;
};

struct SpendReport {
    std::vector<SpendBucketRow> buckets; // sorted by t, then provider
    SpendSaved saved;
};

struct ProviderSpend {
    double spendTodayUsd = 0;
    double wastedTodayUsd = 0;
    uint64_t unpricedAttempts = 0; // since start
    double fleetSpendUsd = 0;      // the other replicas' spend toward today's budget (0 without a fleet)
};

struct BudgetRefusal {
    std::string reason;  // "daily budget $5.00 reached"
    double retryAfterS = 0; // until 00:00 UTC
};

class SpendLedger {
public:
    // `budgets` by provider index (unset: no budget).
    SpendLedger(Clock& clock, std::vector<std::string> providers, std::vector<std::optional<double>> budgets,
                std::size_t keepAttempts = 100000);

    void record(const AttemptRecord& attempt); // costUsd already filled in
    // After a restart: a provider's spend today as the journal summed it, which also counts toward its budget.
    void restoreToday(std::size_t provider, double usd, double wastedUsd, uint64_t unpriced);
    // How many recent attempts are kept for report() and attemptsCsv(). None when a journal answers those.
    void setKeptAttempts(std::size_t n);
    std::optional<BudgetRefusal> checkBudget(std::size_t provider) const;
    void resetBudget(std::size_t provider); // the operator's reset: today's spend no longer counts toward it
    // The fleet (CONTRACT §5: budgets count the whole fleet's spend): what this replica counts toward the budget
    // today, and what the other replicas do, which the budget check adds.
    double budgetSpendToday(std::size_t provider) const;
    void setFleetSpend(std::size_t provider, double othersUsd);
    ProviderSpend spend(std::size_t provider) const;

    SpendReport report(SpendBucket bucket, WallTime since) const;
    std::string attemptsCsv(WallTime since, WallTime until) const;

    static bool wasted(const AttemptRecord& a) { return a.costUsd && !a.delivered; }
    static int64_t bucketSeconds(SpendBucket bucket);

private:
    struct Provider {
        std::string id;
        std::optional<double> budget;
        int64_t day = -1;
        double spendToday = 0;
        double wastedToday = 0;
        double budgetSpend = 0; // spend counted toward the budget: today's, less what an operator reset forgave
        double fleetSpend = 0;  // the other replicas' budgetSpend, as the fleet sync last read it
        uint64_t unpriced = 0;
    };
    void rollDay(Provider& p) const;
    int64_t utcDay() const;

    Clock& m_clock;
    mutable std::mutex m_mutex;
    mutable std::vector<Provider> m_providers;
    std::deque<AttemptRecord> m_attempts;
    std::size_t m_keep;
};

// Shared by the memory and the journal: the CSV header and one RFC 4180 row.
extern const char* const kAttemptsCsvHeader;
std::string attemptCsvRow(const AttemptRecord& a);
// What the saved-money estimate needs of one provider's attempts in a period.
struct ProviderFailureTotals {
    std::string provider;
    uint64_t refused = 0;        // short-circuited
    uint64_t failures = 0;       // attempts that really failed (see failedAttempt)
    double failureSeconds = 0;   // their summed duration
    uint64_t pricedFailures = 0; // ... those with a price
    double failureUsd = 0;       // ... and what they cost
};
// An outcome the "saved" estimate counts as a failed call: not a success, refusal, client error or cancel.
bool failedAttempt(Outcome outcome);
// The saved-money estimate (README "Spend"): per provider, short-circuited count × the average cost and duration
// of its failed attempts in the same period.
SpendSaved estimateSaved(const std::vector<ProviderFailureTotals>& totals);
SpendSaved estimateSaved(const std::vector<AttemptRecord>& attempts);
// Buckets and the saved estimate over a set of attempts in memory (the journal sums them in SQL instead).
SpendReport buildSpendReport(const std::vector<AttemptRecord>& attempts, SpendBucket bucket);

} // namespace fusebox
