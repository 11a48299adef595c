#pragma once
// The durable journal: every attempt and every breaker, operator and route event in SQLite (WAL) at
// data_dir/journal.db. Callers only enqueue; a writer thread commits the queue in one transaction at least once a
// second, so a crash (even kill -9) loses at most the last second and the file opens clean. Rows older than
// journal.retention_days (by the injected Clock) are pruned once an hour. Schema versioned by PRAGMA user_version;
// older files are migrated in place on open.
#include "core/Clock.h"
#include "core/Event.h"
#include "routing/AttemptRecord.h"
#include "spend/SpendLedger.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace fusebox {

class Journal {
public:
    static constexpr int kSchemaVersion = 2;

    // Opens (creating or migrating) the journal at `path`. nullptr with `error` set when it cannot.
    static std::unique_ptr<Journal> open(const std::string& path, Clock& clock, int retentionDays,
                                         std::string& error);
    ~Journal(); // commits what is queued, then closes
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    // From any thread, never blocks on the disk.
    void append(const AttemptRecord& attempt);
    void append(AttemptRecord&& attempt); // (the request path's: its record is not copied again)
    void append(const Event& event);

    // Waits until everything queued before this call is committed (tests, shutdown).
    void flush();
    uint64_t committedAttempts() const { return m_committedAttempts.load(); }
    // Deletes rows older than the retention; returns how many. The writer calls it once an hour by the Clock.
    int prune();

    // Reads back attempts with since <= at < until, oldest first (a separate connection; WAL lets it run beside
    // the writer).
    std::vector<AttemptRecord> attempts(WallTime since, WallTime until) const;

    // Reads back breaker, operator and route events with since <= at < until, oldest first, as they were
    // published (seq is 0: sequence numbers belong to one run's bus). The console's event log starts from these.
    std::vector<Event> events(WallTime since, WallTime until) const;

    // What each provider's attempts since `since` cost, summed by SQLite: a restart restores today's spend (and
    // with it the daily budgets) from this, without reading a busy day's rows into memory.
    struct SpendTotal {
        std::string provider;
        double usd = 0;
        double wastedUsd = 0;  // priced attempts whose answer did not reach the client whole
        uint64_t unpriced = 0; // attempts with usage but no price
    };
    std::vector<SpendTotal> spendTotals(WallTime since) const;
    // The spend report's parts since `since`, summed by SQLite: buckets `bucketSeconds` wide (refusals left
    // out, as SpendReport has them), and each provider's failures for the saved estimate. A report over a busy
    // month reads a few hundred rows, not millions.
    std::vector<SpendBucketRow> spendBuckets(WallTime since, int64_t bucketSeconds) const;
    std::vector<ProviderFailureTotals> failureTotals(WallTime since) const;
    uint64_t eventCount() const;

private:
    Journal(sqlite3* db, std::string path, Clock& clock, int retentionDays);
    // Runs a read-only query on a connection of its own (WAL lets it run beside the writer), one call per row.
    void forEachRow(const char* sql, std::initializer_list<int64_t> parameters,
                    const std::function<void(sqlite3_stmt*)>& row) const;
    void run();
    void pruneIfDue();
    void commit(std::deque<std::variant<AttemptRecord, Event>>& batch);

    sqlite3* m_db;
    std::string m_path;
    Clock& m_clock;
    int m_retentionDays;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    std::deque<std::variant<AttemptRecord, Event>> m_queue;
    uint64_t m_enqueued = 0, m_written = 0; // under m_mutex
    bool m_stop = false;
    int m_flushWaiters = 0;
    std::atomic<uint64_t> m_committedAttempts{0};
    WallTime m_lastPrune{};
    std::mutex m_dbMutex; // the writer connection: the writer thread and prune()
    std::thread m_writer;
};

// For tests of the migration: creates an empty journal file with the version 1 schema.
bool createJournalV1(const std::string& path, std::string& error);

} // namespace fusebox
