#include "store/Journal.h"

#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <mutex>

namespace fusebox {

namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS attempts (
  id INTEGER PRIMARY KEY,
  t_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL, route TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
  outcome TEXT NOT NULL, status INTEGER NOT NULL, ttfb_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, usd REAL, delivered INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  t_ms INTEGER NOT NULL, type TEXT NOT NULL, provider TEXT, route TEXT,
  from_state TEXT, to_state TEXT, action TEXT, reason TEXT);
PRAGMA user_version = 1;
)sql";

// v2: cache tokens per attempt (Anthropic prompt caching; OpenAI cached prompt tokens), and time indexes for
// the spend report and retention.
constexpr const char* kMigrateV1ToV2 = R"sql(
ALTER TABLE attempts ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS attempts_t ON attempts(t_ms);
CREATE INDEX IF NOT EXISTS events_t ON events(t_ms);
PRAGMA user_version = 2;
)sql";

int64_t toMs(WallTime t) { return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count(); }

bool exec(sqlite3* db, const char* sql, std::string& error) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
    error = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return false;
}

int userVersion(sqlite3* db) {
    sqlite3_stmt* st = nullptr;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

// Runs one migration step in its own transaction, so a crash mid-way leaves the older version intact.
// Another process (a second Fusebox on the same data_dir) may have migrated first: re-read inside the lock.
bool migrate(sqlite3* db, const char* sql, int target, std::string& error) {
    if (!exec(db, "BEGIN IMMEDIATE", error)) return false;
    if (userVersion(db) >= target) return exec(db, "COMMIT", error);
    if (!exec(db, sql, error)) {
        std::string ignored;
        exec(db, "ROLLBACK", ignored);
        return false;
    }
    return exec(db, "COMMIT", error);
}

// Once per process, before SQLite's first use: no memory statistics. With them on (the default), every one of
// SQLite's allocations and frees takes a process-wide mutex to count itself, about 20 per journaled attempt; the
// counts (sqlite3_memory_used) are read by nothing here. When SQLite is already initialised (by another user in
// the process), sqlite3_config refuses and the default stays: correct, only slower.
void configureSqlite() {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

sqlite3* openDb(const std::string& path, int flags, std::string& error) {
    configureSqlite();
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        error = path + ": " + (db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return nullptr;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

// SQLITE_STATIC: not copied. The text outlives the statement's step (a batch item's, or a name's static
// storage); the binding is replaced before the next step and never read after it.
void bindText(sqlite3_stmt* st, int i, std::string_view s) {
    sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}

std::string columnText(sqlite3_stmt* st, int i) {
    const auto* text = sqlite3_column_text(st, i);
    return text ? reinterpret_cast<const char*>(text) : "";
}

} // namespace

bool createJournalV1(const std::string& path, std::string& error) {
    sqlite3* db = openDb(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error);
    if (!db) return false;
    const bool ok = exec(db, kSchemaV1, error);
    sqlite3_close(db);
    return ok;
}

std::unique_ptr<Journal> Journal::open(const std::string& path, Clock& clock, int retentionDays,
                                       std::string& error) {
    // NOMUTEX: the writer's connection is only used under m_dbMutex (commit, prune) or before the writer thread
    // starts and after it ends, so SQLite's own lock around every call (five or more per attempt) guards nothing.
    sqlite3* db = openDb(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, error);
    if (!db) return nullptr;
    // WAL: readers beside the writer, and a commit is durable enough at synchronous=NORMAL (a power cut may lose
    // the last transactions; a killed process loses nothing committed).
    if (!exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error)) {
        error = path + ": " + error;
        sqlite3_close(db);
        return nullptr;
    }
    int version = userVersion(db);
    if (version > kSchemaVersion) {
        error = path + ": journal schema version " + std::to_string(version) + " is newer than this Fusebox (" +
                std::to_string(kSchemaVersion) + "); use a newer Fusebox or another data_dir";
        sqlite3_close(db);
        return nullptr;
    }
    const bool ok = (version >= 1 || migrate(db, kSchemaV1, 1, error)) &&
                    (version >= 2 || migrate(db, kMigrateV1ToV2, 2, error));
    if (!ok) {
        error = path + ": cannot prepare the journal schema: " + error;
        sqlite3_close(db);
        return nullptr;
    }
    return std::unique_ptr<Journal>(new Journal(db, path, clock, retentionDays));
}

Journal::Journal(sqlite3* db, std::string path, Clock& clock, int retentionDays)
    : m_db(db), m_path(std::move(path)), m_clock(clock), m_retentionDays(retentionDays) {
    prune();
    m_writer = std::thread([this] { run(); });
}

Journal::~Journal() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_writer.join();
    sqlite3_close(m_db);
}

void Journal::append(const AttemptRecord& attempt) {
    {
        std::lock_guard lock(m_mutex);
        m_queue.emplace_back(attempt);
        ++m_enqueued;
    }
}

void Journal::append(AttemptRecord&& attempt) {
    std::lock_guard lock(m_mutex);
    m_queue.emplace_back(std::move(attempt));
    ++m_enqueued;
}

void Journal::append(const Event& event) {
    std::lock_guard lock(m_mutex);
    m_queue.emplace_back(event);
    ++m_enqueued;
}

void Journal::flush() {
    std::unique_lock lock(m_mutex);
    const uint64_t target = m_enqueued;
    ++m_flushWaiters;
    m_wake.notify_all();
    m_done.wait(lock, [&] { return m_written >= target || m_stop; });
    --m_flushWaiters;
}

void Journal::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        // 200 ms: well inside the "at most the last second is lost" promise, and few enough transactions.
        m_wake.wait_for(lock, Millis{200}, [&] { return m_stop || m_flushWaiters > 0; });
        const bool stopping = m_stop;
        std::deque<std::variant<AttemptRecord, Event>> batch;
        batch.swap(m_queue);
        lock.unlock();
        if (!batch.empty()) commit(batch);
        pruneIfDue();
        lock.lock();
        m_written += batch.size();
        m_done.notify_all();
        if (stopping && m_queue.empty()) return;
    }
}

void Journal::commit(std::deque<std::variant<AttemptRecord, Event>>& batch) {
    std::lock_guard db(m_dbMutex);
    std::string error;
    if (!exec(m_db, "BEGIN IMMEDIATE", error)) return;
    sqlite3_stmt* attempt = nullptr;
    sqlite3_stmt* event = nullptr;
    sqlite3_prepare_v2(m_db,
                       "INSERT INTO attempts (t_ms, request_id, route, provider, model, outcome, status, ttfb_ms, "
                       "duration_ms, input_tokens, output_tokens, usd, delivered, cache_read_tokens, "
                       "cache_write_tokens) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       -1, &attempt, nullptr);
    sqlite3_prepare_v2(m_db,
                       "INSERT INTO events (t_ms, type, provider, route, from_state, to_state, action, reason) "
                       "VALUES (?,?,?,?,?,?,?,?)",
                       -1, &event, nullptr);
    uint64_t attempts = 0;
    for (const auto& item : batch) {
        if (const auto* a = std::get_if<AttemptRecord>(&item)) {
            sqlite3_reset(attempt);
            sqlite3_bind_int64(attempt, 1, toMs(a->at));
            bindText(attempt, 2, a->requestId);
            bindText(attempt, 3, a->route);
            bindText(attempt, 4, a->provider);
            bindText(attempt, 5, a->model);
            bindText(attempt, 6, outcomeName(a->outcome));
            sqlite3_bind_int(attempt, 7, a->status);
            sqlite3_bind_int64(attempt, 8, a->timeToFirstByte.count());
            sqlite3_bind_int64(attempt, 9, a->duration.count());
            sqlite3_bind_int64(attempt, 10, a->usage.inputTokens);
            sqlite3_bind_int64(attempt, 11, a->usage.outputTokens);
            if (a->costUsd) sqlite3_bind_double(attempt, 12, *a->costUsd);
            else sqlite3_bind_null(attempt, 12);
            sqlite3_bind_int(attempt, 13, a->delivered ? 1 : 0);
            sqlite3_bind_int64(attempt, 14, a->usage.cacheReadTokens);
            sqlite3_bind_int64(attempt, 15, a->usage.cacheWriteTokens);
            if (sqlite3_step(attempt) == SQLITE_DONE) ++attempts;
        } else {
            const Event& e = std::get<Event>(item);
            sqlite3_reset(event);
            sqlite3_bind_int64(event, 1, toMs(e.at));
            bindText(event, 2, eventTypeName(e.type));
            bindText(event, 3, e.provider);
            bindText(event, 4, e.route);
            bindText(event, 5, e.from);
            bindText(event, 6, e.to);
            bindText(event, 7, e.action);
            bindText(event, 8, e.reason);
            sqlite3_step(event);
        }
    }
    sqlite3_finalize(attempt);
    sqlite3_finalize(event);
    if (exec(m_db, "COMMIT", error)) m_committedAttempts += attempts;
    else exec(m_db, "ROLLBACK", error);
}

void Journal::pruneIfDue() {
    {
        std::lock_guard db(m_dbMutex);
        if (m_clock.wallNow() - m_lastPrune < std::chrono::hours(1)) return;
    }
    prune();
}

int Journal::prune() {
    std::lock_guard db(m_dbMutex);
    m_lastPrune = m_clock.wallNow();
    const int64_t cutoff = toMs(m_lastPrune - std::chrono::hours(24) * m_retentionDays);
    int deleted = 0;
    for (const char* sql : {"DELETE FROM attempts WHERE t_ms < ?", "DELETE FROM events WHERE t_ms < ?"}) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(m_db, sql, -1, &st, nullptr) != SQLITE_OK) continue;
        sqlite3_bind_int64(st, 1, cutoff);
        if (sqlite3_step(st) == SQLITE_DONE) deleted += sqlite3_changes(m_db);
        sqlite3_finalize(st);
    }
    return deleted;
}

void Journal::forEachRow(const char* sql, std::initializer_list<int64_t> parameters,
                         const std::function<void(sqlite3_stmt*)>& row) const {
    std::string error;
    sqlite3* db = openDb(m_path, SQLITE_OPEN_READONLY, error);
    if (!db) return;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK) {
        int index = 0;
        for (const int64_t value : parameters) sqlite3_bind_int64(st, ++index, value);
        while (sqlite3_step(st) == SQLITE_ROW) row(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

std::vector<AttemptRecord> Journal::attempts(WallTime since, WallTime until) const {
    std::vector<AttemptRecord> out;
    forEachRow("SELECT t_ms, request_id, route, provider, model, outcome, status, ttfb_ms, duration_ms, "
               "input_tokens, output_tokens, usd, delivered, cache_read_tokens, cache_write_tokens "
               "FROM attempts WHERE t_ms >= ? AND t_ms < ? ORDER BY t_ms, id",
               {toMs(since), toMs(until)}, [&out](sqlite3_stmt* st) {
                   AttemptRecord a;
                   a.at = WallTime{Millis{sqlite3_column_int64(st, 0)}};
                   a.requestId = columnText(st, 1);
                   a.route = columnText(st, 2);
                   a.provider = columnText(st, 3);
                   a.model = columnText(st, 4);
                   a.outcome = outcomeFromName(columnText(st, 5)).value_or(Outcome::BadResponse);
                   a.status = sqlite3_column_int(st, 6);
                   a.timeToFirstByte = Millis{sqlite3_column_int64(st, 7)};
                   a.duration = Millis{sqlite3_column_int64(st, 8)};
                   a.usage.inputTokens = sqlite3_column_int64(st, 9);
                   a.usage.outputTokens = sqlite3_column_int64(st, 10);
                   a.usage.reported = a.usage.inputTokens + a.usage.outputTokens > 0;
                   if (sqlite3_column_type(st, 11) != SQLITE_NULL) a.costUsd = sqlite3_column_double(st, 11);
                   a.delivered = sqlite3_column_int(st, 12) != 0;
                   a.usage.cacheReadTokens = sqlite3_column_int64(st, 13);
                   a.usage.cacheWriteTokens = sqlite3_column_int64(st, 14);
                   out.push_back(std::move(a));
               });
    return out;
}

std::vector<Event> Journal::events(WallTime since, WallTime until) const {
    std::vector<Event> out;
    forEachRow("SELECT t_ms, type, provider, route, from_state, to_state, action, reason "
               "FROM events WHERE t_ms >= ? AND t_ms < ? ORDER BY t_ms, id",
               {toMs(since), toMs(until)}, [&out](sqlite3_stmt* st) {
                   Event e;
                   e.at = WallTime{Millis{sqlite3_column_int64(st, 0)}};
                   const std::string type = columnText(st, 1);
                   e.type = type == eventTypeName(EventType::Operator) ? EventType::Operator
                            : type == eventTypeName(EventType::Route)  ? EventType::Route
                                                                       : EventType::Breaker;
                   e.provider = columnText(st, 2);
                   e.route = columnText(st, 3);
                   e.from = columnText(st, 4);
                   e.to = columnText(st, 5);
                   e.action = columnText(st, 6);
                   e.reason = columnText(st, 7);
                   out.push_back(std::move(e));
               });
    return out;
}

std::vector<Journal::SpendTotal> Journal::spendTotals(WallTime since) const {
    std::vector<SpendTotal> out;
    // "Unpriced" as the ledger counts it: usage reported (tokens, as attempts() reads it back), no price, and a
    // real call (a breaker's refusal has no usage anyway).
    forEachRow("SELECT provider, TOTAL(usd), TOTAL(CASE WHEN delivered = 0 THEN usd END), "
               "SUM(usd IS NULL AND input_tokens + output_tokens > 0 AND outcome != 'short_circuited') "
               "FROM attempts WHERE t_ms >= ? GROUP BY provider",
               {toMs(since)}, [&out](sqlite3_stmt* st) {
                   SpendTotal total;
                   total.provider = columnText(st, 0);
                   total.usd = sqlite3_column_double(st, 1);
                   total.wastedUsd = sqlite3_column_double(st, 2);
                   total.unpriced = static_cast<uint64_t>(sqlite3_column_int64(st, 3));
                   out.push_back(std::move(total));
               });
    return out;
}

std::vector<SpendBucketRow> Journal::spendBuckets(WallTime since, int64_t bucketSeconds) const {
    std::vector<SpendBucketRow> out;
    const int64_t widthMs = std::max<int64_t>(1, bucketSeconds) * 1000;
    forEachRow("SELECT t_ms / ?1 * ?1 / 1000 AS t, provider, count(*), TOTAL(input_tokens), TOTAL(output_tokens), "
               "TOTAL(usd), TOTAL(CASE WHEN delivered = 0 THEN usd END), "
               "SUM(usd IS NULL AND input_tokens + output_tokens > 0) "
               "FROM attempts WHERE t_ms >= ?2 AND outcome != 'short_circuited' "
               "GROUP BY t, provider ORDER BY t, provider",
               {widthMs, toMs(since)}, [&out](sqlite3_stmt* st) {
                   SpendBucketRow row;
                   row.t = sqlite3_column_int64(st, 0);
                   row.provider = columnText(st, 1);
                   row.requests = static_cast<uint64_t>(sqlite3_column_int64(st, 2));
                   row.inputTokens = static_cast<uint64_t>(sqlite3_column_double(st, 3));
                   row.outputTokens = static_cast<uint64_t>(sqlite3_column_double(st, 4));
                   row.usd = sqlite3_column_double(st, 5);
                   row.wastedUsd = sqlite3_column_double(st, 6);
                   row.unpriced = static_cast<uint64_t>(sqlite3_column_int64(st, 7));
                   out.push_back(std::move(row));
               });
    return out;
}

std::vector<ProviderFailureTotals> Journal::failureTotals(WallTime since) const {
    std::vector<ProviderFailureTotals> out;
    // A failure as failedAttempt() has it.
    forEachRow("SELECT provider, SUM(outcome = 'short_circuited'), SUM(failed), "
               "TOTAL(CASE WHEN failed THEN duration_ms END) / 1000.0, SUM(failed AND usd IS NOT NULL), "
               "TOTAL(CASE WHEN failed THEN usd END) "
               "FROM (SELECT provider, outcome, duration_ms, usd, "
               "outcome NOT IN ('success', 'short_circuited', 'client_error', 'cancelled') AS failed "
               "FROM attempts WHERE t_ms >= ?) GROUP BY provider",
               {toMs(since)}, [&out](sqlite3_stmt* st) {
                   ProviderFailureTotals t;
                   t.provider = columnText(st, 0);
                   t.refused = static_cast<uint64_t>(sqlite3_column_int64(st, 1));
                   t.failures = static_cast<uint64_t>(sqlite3_column_int64(st, 2));
                   t.failureSeconds = sqlite3_column_double(st, 3);
                   t.pricedFailures = static_cast<uint64_t>(sqlite3_column_int64(st, 4));
                   t.failureUsd = sqlite3_column_double(st, 5);
                   out.push_back(std::move(t));
               });
    return out;
}

uint64_t Journal::eventCount() const {
    uint64_t n = 0;
    forEachRow("SELECT count(*) FROM events", {},
               [&n](sqlite3_stmt* st) { n = static_cast<uint64_t>(sqlite3_column_int64(st, 0)); });
    return n;
}

} // namespace fusebox
