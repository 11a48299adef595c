#include "Engine.h"

#include "admin/AdminHandler.h"
#include "admin/MetricsRegistry.h"
#include "breaker/CircuitBreaker.h"
#include "config/ConfigWriter.h"
#include "fleet/FleetSync.h"
#include "core/Log.h"
#include "proxy/AgentActivity.h"
#include "proxy/CurlGlobal.h"
#include "proxy/ProxyContext.h"
#include "proxy/ProxyHandler.h"
#include "proxy/ProxyServer.h"
#include "routing/AttemptRecord.h"
#include "routing/ProviderStats.h"
#include "routing/RouteTable.h"
#include "sim/DemoProviders.h"
#include "store/Journal.h"

#include <filesystem>

#include <cstring>

namespace fusebox {

namespace {

// A route that mixes the two APIs falls over across them only to targets that name a model (the client's model
// means nothing to the other API): said once at start, rather than only in the 503s that follow.
void warnAboutCrossApiTargetsWithoutModel(const Config& config) {
    auto kindOf = [&config](const std::string& id) -> std::optional<ProviderKind> {
        for (const auto& p : config.providers)
            if (p.id == id) return p.kind;
        return std::nullopt;
    };
    for (const auto& route : config.routes) {
        bool openai = false, anthropic = false;
        for (const auto& target : route.targets)
            if (auto kind = kindOf(target.provider)) (*kind == ProviderKind::OpenAI ? openai : anthropic) = true;
        if (!openai || !anthropic) continue;
        for (const auto& target : route.targets)
            if (target.model.empty())
                Log::warn("route " + route.name + ": target " + target.provider +
                              " names no model, so requests in the other API skip it; give it a \"model\" to fall "
                              "over across APIs",
                          {{"route", route.name}, {"provider", target.provider}});
    }
}

} // namespace

const ProviderSnapshot* EngineSnapshot::findProvider(std::string_view id) const {
    for (const auto& p : providers)
        if (p.id == id) return &p;
    return nullptr;
}

Engine::Engine(Config config, Clock& clock, Random& random)
    : m_config(std::move(config)), m_clock(clock), m_createdAt(clock.wallNow()), m_random(random),
      m_prices(PriceTable::builtIn()) {
    // The loader already validated prices_file; a file that changed since is reported and skipped.
    if (!m_config.pricesFile.empty())
        if (auto error = m_prices.mergeFile(m_config.pricesFile)) Log::warn("prices_file ignored: " + *error, {});
    std::vector<std::string> ids;
    std::vector<std::optional<double>> budgets;
    for (const auto& provider : m_config.providers) ids.push_back(provider.id), budgets.push_back(provider.budgetUsdPerDay);
    m_spend = std::make_unique<SpendLedger>(m_clock, std::move(ids), std::move(budgets));
    if (m_config.journal.enabled) openJournal();
    for (const auto& provider : m_config.providers) {
        m_breakers.push_back(std::make_unique<CircuitBreaker>(provider.id, provider.breaker, m_clock, m_random,
                                                              &m_events));
        m_stats.push_back(std::make_unique<ProviderStats>(m_clock));
    }
    m_routes = std::make_unique<RouteTable>(m_config.providers, m_config.routes);
    warnAboutCrossApiTargetsWithoutModel(m_config);
    std::vector<CircuitBreaker*> breakers;
    for (auto& b : m_breakers) breakers.push_back(b.get());
    std::vector<SecretRedactor> redactors;
    for (const auto& provider : m_config.providers) redactors.emplace_back(provider.apiKey);
    m_activity = std::make_unique<AgentActivity>(m_clock);
    m_memoryBudget = std::make_unique<RequestMemoryBudget>(m_config.limits.maxBodyMemoryBytes);
    m_proxyContext = std::make_unique<ProxyContext>(ProxyContext{
        m_config, *m_routes, std::move(breakers), m_clock, std::move(redactors),
        [this](AttemptRecord&& a) { onAttempt(std::move(a)); },
        [this](std::size_t provider) { return m_spend->checkBudget(provider); }, m_memoryBudget.get(),
        m_activity.get()});
    m_handler = std::make_unique<ProxyHandler>(*m_proxyContext);
    m_metrics = std::make_unique<MetricsRegistry>();
    m_admin = std::make_unique<AdminHandler>(*this, *m_metrics);
    m_handler->setAdminHandler(m_admin.get());
    m_replica = m_config.redis.replicaId.empty() ? defaultReplicaId(m_config.listenPort) : m_config.redis.replicaId;
    m_events.setReplica(m_replica);
}

Engine::~Engine() {
    stop(std::chrono::milliseconds(0));
    if (m_journal) m_events.unsubscribe(m_journalSubscription);
}

void Engine::openJournal() {
    std::error_code ec;
    std::filesystem::create_directories(m_config.dataDir, ec);
    std::string error;
    m_journal = Journal::open(m_config.dataDir + "/journal.db", m_clock, m_config.journal.retentionDays, error);
    if (!m_journal) {
        Log::warn("journal disabled: " + error, {});
        return;
    }
    // The journal answers the spend report and the CSV from now on: the ledger keeps totals only.
    m_spend->setKeptAttempts(0);
    // Today's spend survives a restart, so a daily budget does too. SQLite sums today's (UTC) attempts per
    // provider; no row is read into memory (a busy day holds millions).
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(m_clock.wallNow().time_since_epoch()).count();
    const WallTime midnight{std::chrono::seconds{now - now % 86400}};
    for (const auto& total : m_journal->spendTotals(midnight))
        for (std::size_t i = 0; i < m_config.providers.size(); ++i)
            if (m_config.providers[i].id == total.provider)
                m_spend->restoreToday(i, total.usd, total.wastedUsd, total.unpriced);
    // The sink only enqueues: publish() may run under a breaker's lock.
    m_journalSubscription = m_events.subscribe([journal = m_journal.get()](const Event& e) { journal->append(e); });
}

bool Engine::start(std::string& error) {
    if (m_server) return true;
    // libcurl's global init is not thread-safe: do it here, before any I/O thread exists.
    if (!CurlGlobal::ensure()) {
        error = "cannot initialise libcurl: " + CurlGlobal::initError();
        return false;
    }
    // NOTE: m_server is set before listen() starts the I/O threads, which read it (AdminHandler::state): set
    // after, it would be a data race.
    m_server = std::make_unique<ProxyServer>(m_config.ioThreads, *m_handler, m_config.limits);
    if (!m_server->listen(m_config.listenHost, m_config.listenPort, error)) {
        m_server.reset();
        return false;
    }
    startFleet(); // returns at once: serving never waits for Redis
    return true;
}

void Engine::stop(std::chrono::milliseconds drain) {
    if (!m_server) return;
    m_admin->closeStreams(); // event streams never end by themselves: end them so the drain can finish
    const int64_t left = m_server->stop(drain);
    if (left > 0) Log::warn("stopped with requests still in flight", {{"requests", std::to_string(left)}});
    m_server.reset();
    m_fleet.reset(); // after the server: no request is left to publish an event it would miss
}

int64_t Engine::requestsInFlight() const { return m_server ? m_server->requestsInFlight() : 0; }

std::string Engine::listenUrl() const {
    if (!m_server) return {};
    return "http://" + m_server->host() + ":" + std::to_string(m_server->port());
}

void Engine::adoptDemo(std::unique_ptr<sim::DemoProviders> demo) {
    // Before start(), so the table is still this thread's alone. Built again in the constructor's order with the
    // demo's prices between the built-in table and the user's prices_file, whose prices win.
    PriceTable prices = PriceTable::builtIn();
    prices.merge(sim::DemoProviders::priceTable(), "demo prices");
    if (!m_config.pricesFile.empty()) prices.mergeFile(m_config.pricesFile); // its error was logged at construction
    m_prices = std::move(prices);
    m_demo = std::move(demo);
}

// Every attempt, refusals included, from any I/O thread. Each observer is thread-safe and quick.
void Engine::onAttempt(AttemptRecord&& attempt) {
    if (attempt.outcome != Outcome::ShortCircuited && attempt.usage.reported)
        attempt.costUsd = m_prices.cost(attempt.model, attempt.endpoint, attempt.usage);
    m_stats[attempt.providerIndex]->record(attempt);
    m_metrics->record(attempt);
    m_spend->record(attempt);
    if (m_journal) m_journal->append(std::move(attempt)); // (the last to read it)
}

SpendReport Engine::spendReport(SpendBucket bucket, WallTime since) const {
    if (!m_journal) return m_spend->report(bucket, since);
    m_journal->flush();
    SpendReport report;
    report.buckets = m_journal->spendBuckets(since, SpendLedger::bucketSeconds(bucket));
    report.saved = estimateSaved(m_journal->failureTotals(since));
    return report;
}

std::string Engine::attemptsCsv(WallTime since, WallTime until) const {
    if (!m_journal) return m_spend->attemptsCsv(since, until);
    m_journal->flush();
    std::string csv = kAttemptsCsvHeader;
    for (const auto& a : m_journal->attempts(since, until)) csv += attemptCsvRow(a);
    return csv;
}

std::vector<Event> Engine::earlierEvents(WallTime since) const {
    if (!m_journal || since >= m_createdAt) return {};
    return m_journal->events(since, m_createdAt);
}

CircuitBreaker* Engine::breaker(std::string_view provider) {
    for (std::size_t i = 0; i < m_config.providers.size(); ++i)
        if (m_config.providers[i].id == provider) return m_breakers[i].get();
    return nullptr;
}

ProviderSnapshot Engine::providerSnapshot(std::size_t index) const {
    const auto& config = m_config.providers[index];
    ProviderSnapshot p;
    p.id = config.id;
    p.kind = config.kind;
    p.baseUrl = config.baseUrl;
    p.hasKey = config.hasKey();
    if (!p.hasKey)
        p.keyHint = config.apiKeyVariables.empty() ? "no api_key configured" : "set " + config.apiKeyVariables.front();
    p.breaker = m_breakers[index]->snapshot();
    p.figures = m_stats[index]->figures();
    p.budgetUsdPerDay = config.budgetUsdPerDay;
    const ProviderSpend spend = m_spend->spend(index);
    p.spendTodayUsd = spend.spendTodayUsd;
    p.wastedTodayUsd = spend.wastedTodayUsd;
    p.unpricedAttempts = spend.unpricedAttempts;
    p.budgetRefusal = m_spend->checkBudget(index);
    p.fleetSpendTodayUsd = spend.fleetSpendUsd;
    return p;
}

EngineSnapshot Engine::snapshot() const {
    EngineSnapshot s;
    s.takenAt = m_clock.wallNow();
    s.listenUrl = listenUrl();
    for (std::size_t i = 0; i < m_config.providers.size(); ++i) s.providers.push_back(providerSnapshot(i));
    s.routes = *m_routes->routes();
    s.agentRequestsInFlight = m_activity->inFlight();
    s.agentRequestsLastMinute = m_activity->lastMinute();
    s.health = judgeOverall(s);
    s.fleet = fleetStatus();
    return s;
}

CommandResult Engine::operatorCommand(const std::string& provider, const char* action, const std::string& reason) {
    for (std::size_t i = 0; i < m_config.providers.size(); ++i) {
        if (m_config.providers[i].id != provider) continue;
        CircuitBreaker& breaker = *m_breakers[i];
        if (std::strcmp(action, "force_open") == 0) breaker.forceOpen(reason);
        else if (std::strcmp(action, "force_close") == 0) breaker.forceClose(reason);
        else {
            breaker.reset(reason);
            m_spend->resetBudget(i); // reset also forgives today's budget (CONTRACT §2)
        }

        publishOperatorEvent(provider, action, reason.empty() ? std::string(action) + " (no reason given)" : reason);
        return {true, 200, {}, providerSnapshot(i), {}};
    }
    return {false, 404, "no provider has the id \"" + provider + "\"", std::nullopt, {}};
}

CommandResult Engine::setRoute(const std::string& route, const std::vector<RouteTarget>& targets,
                               const std::string& reason) {
    const auto routes = m_routes->routes();
    const RouteConfig* current = findRoute(*routes, route);
    if (current == nullptr) return {false, 404, "no route is named \"" + route + "\"", std::nullopt, {}};
    const std::string before = describeTargets(current->targets);
    if (auto error = m_routes->setTargets(route, targets)) return {false, 400, *error, std::nullopt, {}};

    CommandResult result{true, 200, {}, std::nullopt, {}};
    if (!m_config.sourcePath.empty()) {
        std::string error;
        if (!writeRouteTargets(m_config.sourcePath, route, targets, error)) result.warning = error;
    }
    publishRouteEvent(route, before, targets, reason.empty() ? "fallback order changed" : reason);
    return result;
}

void Engine::publishOperatorEvent(const std::string& provider, const std::string& action, std::string reason,
                                  const std::string& origin) {
    Event event;
    event.type = EventType::Operator;
    event.at = m_clock.wallNow();
    event.provider = provider;
    event.action = action;
    event.reason = std::move(reason);
    event.replica = origin;
    event.fromFleet = !origin.empty();
    m_events.publish(std::move(event));
}

void Engine::publishRouteEvent(const std::string& route, std::string before, const std::vector<RouteTarget>& after,
                               std::string reason, const std::string& origin) {
    Event event;
    event.type = EventType::Route;
    event.at = m_clock.wallNow();
    event.route = route;
    event.from = std::move(before);
    event.to = describeTargets(after);
    event.reason = std::move(reason);
    event.replica = origin;
    event.fromFleet = !origin.empty();
    m_events.publish(std::move(event));
}

CommandResult Engine::drill(const std::string& provider, const std::string& kind) {
    sim::SimProvider* target = m_demo ? m_demo->find(provider) : nullptr;
    if (target == nullptr)
        return {false, 404, "drills reach only the simulated providers of --demo (sim-primary, sim-backup)", std::nullopt, {}};
    if (kind == "outage") target->setFault(sim::Fault::httpError(503));
    else if (kind == "rate_limit") target->setFault(sim::Fault::httpError(429, "8"));
    // Every answer of a slow bleed comes late (past the demo's slow_call_ms of 2 s, so the "slow" count moves),
    // and three in ten are 500s.
    else if (kind == "slow")
        target->setFault(sim::Fault::httpError(500).withProbability(0.3, 7).withLatency(Millis{2500}).withSparedLatency(Millis{2500}));
    else if (kind == "hang") target->setFault(sim::Fault::hang());
    else if (kind == "clear") target->clearFault();
    else return {false, 400, "unknown drill \"" + kind + "\" (outage, rate_limit, slow, hang, clear)", std::nullopt, {}};
    publishOperatorEvent(provider, "drill", "drill: " + kind);
    return {true, 200, {}, std::nullopt, {}};
}

CommandResult Engine::forceOpen(const std::string& provider, const std::string& reason) {
    return operatorCommand(provider, "force_open", reason);
}
CommandResult Engine::forceClose(const std::string& provider, const std::string& reason) {
    return operatorCommand(provider, "force_close", reason);
}
CommandResult Engine::reset(const std::string& provider, const std::string& reason) {
    return operatorCommand(provider, "reset", reason);
}

} // namespace fusebox
