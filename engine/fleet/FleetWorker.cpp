#include "fleet/FleetWorker.h"

#include "breaker/CircuitBreaker.h"
#include "core/Log.h"
#include "fleet/FleetHost.h"
#include "fleet/FleetScripts.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <random>

namespace fusebox {

namespace {

constexpr auto kTickPeriod = std::chrono::milliseconds(250); // window totals reach the fleet at least this often
// A command unanswered this long means a hung or cut-off Redis: the connection is given up and made again.
constexpr auto kCommandTimeout = std::chrono::milliseconds(1500);
constexpr Millis kFirstBackoff{100};
constexpr Millis kMaxBackoff{1000}; // rejoin within ~2 s of Redis answering (CONTRACT §5 asks for 5 s)

// In the order of FleetWorker::ScriptIndex.
const fleet::FleetScript* const kScripts[] = {&fleet::kSyncScript, &fleet::kVerdictScript, &fleet::kRouteScript,
                                              &fleet::kRenewProbeScript};

int64_t wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string randomToken() {
    std::random_device device;
    std::mt19937_64 engine((static_cast<uint64_t>(device()) << 32) ^ device() ^ static_cast<uint64_t>(wallMs()));
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(engine()));
    return text;
}

bool isOperatorAction(const std::string& action) {
    return action == "force_open" || action == "force_close" || action == "reset";
}

} // namespace

FleetWorker::FleetWorker(RedisConfig config, std::string replica, std::string listenUrl,
                         std::vector<FleetProvider> providers, FleetHost& host)
    : m_config(std::move(config)), m_replica(std::move(replica)), m_instance(randomToken()),
      m_listenUrl(std::move(listenUrl)), m_host(host), m_work(m_io.get_executor()), m_resolver(m_io),
      m_tickTimer(m_io), m_reconnectTimer(m_io), m_command(m_io, "fleet commands", kCommandTimeout),
      m_subscriber(m_io, "fleet events", kCommandTimeout) {
    for (std::size_t i = 0; i < providers.size(); ++i) {
        Slot slot;
        slot.provider = std::move(providers[i]);
        slot.index = i;
        m_slots.push_back(std::move(slot));
    }
    m_status.enabled = true;
    m_status.redis = RedisLink::Degraded; // until the first connection succeeds: serving never waits for it
    m_status.replica = m_replica;
}

void FleetWorker::begin() {
    std::string error;
    m_url = parseRedisUrl(m_config.url, error); // validated by the config loader already
    if (!m_url) {
        Log::error("fleet: redis.url " + error + "; the fleet is off", {});
        return;
    }
    for (auto& slot : m_slots) slot.provider.breaker->enableFleet();
    connect();
    armTick();
}

void FleetWorker::shutdown() {
    m_stopping = true;
    m_tickTimer.cancel();
    m_reconnectTimer.cancel();
    m_resolver.cancel();
    m_command.close();
    m_subscriber.close();
    m_work.reset();
}

// ---- connecting ------------------------------------------------------------------------------------------

void FleetWorker::connect() {
    m_reconnectScheduled = false;
    if (m_stopping) return;
    if (m_url->unixSocket) return openWith({true, m_url->host, 0});
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(m_url->host, ec);
    if (!ec) return openWith({false, address.to_string(), m_url->port});
    // redisAsyncConnect would resolve the name itself, blocking this thread: resolve first, connect by address.
    m_resolver.async_resolve(m_url->host, std::to_string(m_url->port),
                             [this](const boost::system::error_code& error, auto results) {
                                 if (m_stopping) return;
                                 if (error || results.empty())
                                     return lost("cannot resolve " + m_url->host + ": " + error.message());
                                 auto chosen = results.begin()->endpoint();
                                 for (const auto& r : results)
                                     if (r.endpoint().address().is_v4()) {
                                         chosen = r.endpoint();
                                         break;
                                     }
                                 openWith({false, chosen.address().to_string(), m_url->port});
                             });
}

void FleetWorker::openWith(const fleet::RedisEndpoint& endpoint) {
    m_endpoint = endpoint;
    const fleet::RedisLogin login{m_url->user, m_config.password.empty() ? m_url->password : m_config.password,
                                  m_url->db};
    m_command.open(
        endpoint, login,
        [this](const std::string& error) {
            if (!error.empty()) return lost(error);
            loadScripts(0);
        },
        [this](const std::string& why) { lost(why); });
}

void FleetWorker::loadScripts(std::size_t next) {
    if (next == std::size(kScripts)) return openSubscriber();
    m_command.command({"SCRIPT", "LOAD", kScripts[next]->source}, [this, next](const redisReply* reply) {
        if (reply == nullptr) return; // the connection ended; lost() is on its way
        if (fleet::isErrorReply(reply)) return lost("SCRIPT LOAD failed: " + fleet::replyText(reply));
        m_shas[next] = fleet::replyText(reply);
        loadScripts(next + 1);
    });
}

void FleetWorker::openSubscriber() {
    const fleet::RedisLogin login{m_url->user, m_config.password.empty() ? m_url->password : m_config.password,
                                  m_url->db};
    m_subscriber.open(
        m_endpoint, login,
        [this](const std::string& error) {
            if (!error.empty()) return lost(error);
            m_subscriber.subscribe(
                m_config.prefix + ":events",
                [this](bool ok) { ok ? joined() : lost("SUBSCRIBE refused"); },
                [this](const std::string&, const std::string& message) { onChannel(message); });
        },
        [this](const std::string& why) { lost(why); });
}

void FleetWorker::joined() {
    m_backoff = kFirstBackoff;
    setLink(RedisLink::Connected, {});
    for (auto& slot : m_slots) slot.provider.breaker->setFleetProbeGate(true);
    tick(); // at once: adopt the fleet's verdicts and routes, seed an empty Redis, publish what changed here
}

void FleetWorker::lost(const std::string& why) {
    m_command.close();
    m_subscriber.close();
    m_syncInFlight = false;
    for (auto& slot : m_slots) {
        slot.publishing = slot.claiming = false;
        slot.grantedGeneration = 0;
        // Alone again: this replica's own breakers judge by its own calls and probe by themselves.
        slot.provider.breaker->setFleetProbeGate(false);
        slot.provider.breaker->setFleetCounts({});
    }
    for (auto& [name, route] : m_routes) route.publishing = false;
    if (m_stopping) return;
    setLink(RedisLink::Degraded, why);
    if (m_reconnectScheduled) return;
    m_reconnectScheduled = true;
    m_reconnectTimer.expires_after(m_backoff);
    m_backoff = std::min(m_backoff * 2, kMaxBackoff);
    m_reconnectTimer.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) connect();
    });
}

void FleetWorker::setLink(RedisLink link, const std::string& why) {
    m_link = link;
    {
        std::lock_guard lock(m_statusMutex);
        m_status.redis = link;
        if (link != RedisLink::Connected) m_status.replicas.clear();
    }
    if (m_logged == link) return; // one line per change, not one per retry
    m_logged = link;
    const std::string where = m_url ? m_url->display() : std::string("?");
    if (link == RedisLink::Connected)
        Log::info("fleet: connected to Redis at " + where + " as replica " + m_replica, {{"replica", m_replica}});
    else
        Log::warn("fleet: Redis at " + where + " unavailable (" + why +
                      "); serving with local breakers and the last fleet verdicts, retrying",
                  {{"replica", m_replica}});
}

// ---- the periodic sync -------------------------------------------------------------------------------------

void FleetWorker::armTick() {
    m_tickTimer.expires_after(kTickPeriod);
    m_tickTimer.async_wait([this](const boost::system::error_code& ec) {
        if (ec || m_stopping) return;
        tick();
        armTick();
    });
}

void FleetWorker::tick() {
    if (!connected()) return;
    for (auto& slot : m_slots) keepProbe(slot);
    if (m_syncInFlight) return; // a slow Redis gets one sync at a time, not a queue of them
    std::vector<std::string> args = {m_config.prefix, m_replica, fleet::replicaInfoJson(m_listenUrl, FUSEBOX_VERSION),
                                     std::to_string(m_slots.size())};
    for (auto& slot : m_slots) {
        const WindowCounts counts = slot.provider.breaker->localWindowCounts();
        char spend[32];
        std::snprintf(spend, sizeof spend, "%.6f", m_host.budgetSpendToday(slot.index));
        args.insert(args.end(), {slot.provider.id, std::to_string(slot.provider.windowS * 1000),
                                 std::to_string(counts.calls), std::to_string(counts.failures),
                                 std::to_string(counts.slow), spend});
    }
    m_syncInFlight = true;
    evalScript(kSync, {}, std::move(args), [this](const redisReply* reply) {
        m_syncInFlight = false;
        if (reply == nullptr) return;
        if (fleet::isErrorReply(reply)) {
            Log::throttled(LogLevel::Warn, "fleet-sync", std::chrono::seconds(60),
                           "fleet: sync script failed: " + fleet::replyText(reply), {});
            return;
        }
        if (auto answer = fleet::parseSyncAnswer(fleet::replyText(reply))) onSyncAnswer(*answer);
    });
}

void FleetWorker::onSyncAnswer(const fleet::SyncAnswer& answer) {
    m_offsetMs = answer.nowMs - wallMs();
    {
        std::lock_guard lock(m_statusMutex);
        m_status.replicas = answer.replicas;
        std::sort(m_status.replicas.begin(), m_status.replicas.end(),
                  [](const FleetReplica& a, const FleetReplica& b) { return a.id < b.id; });
    }
    // Pending local changes go out first: they are newer than anything this answer holds for their provider.
    if (answer.epoch.empty()) {
        seed();
    } else if (m_epoch.empty()) {
        m_epoch = answer.epoch;
        publishPending();
    } else if (answer.epoch != m_epoch) {
        m_epoch = answer.epoch;
        Log::warn("fleet: Redis was replaced or lost its data; publishing this replica's verdicts again", {});
        republishAll();
    } else {
        publishPending();
    }
    for (auto& slot : m_slots) {
        auto it = answer.providers.find(slot.provider.id);
        if (it == answer.providers.end()) continue;
        const fleet::ProviderSync& p = it->second;
        WindowCounts others;
        others.calls = p.calls;
        others.failures = p.failures;
        others.slow = p.slow;
        slot.provider.breaker->setFleetCounts(others);
        m_host.setFleetSpend(slot.index, p.spendUsd);
        // The snapshot is the backstop for messages the channel dropped (while disconnected, say).
        if (p.verdict && !slot.pending && p.verdict->generation > slot.appliedGeneration)
            applyVerdict(slot, *p.verdict, p.remainingMs);
    }
    for (const auto& route : answer.routes)
        if (route.generation > m_routes[route.route].generation && !m_routes[route.route].pending) applyRoute(route);
}

void FleetWorker::seed() {
    const std::string token = randomToken();
    m_command.command({"SET", m_config.prefix + ":epoch", token, "NX", "PX", "86400000"}, [this, token](const redisReply* reply) {
        if (reply == nullptr || fleet::isErrorReply(reply) || reply->type == REDIS_REPLY_NIL) return;
        const bool fresh = m_epoch.empty();
        m_epoch = token;
        if (!fresh) Log::warn("fleet: Redis had lost the fleet's state; seeding it again", {});
        republishAll();
    });
}

void FleetWorker::republishAll() {
    for (auto& slot : m_slots) {
        const LocalBreakerView view = slot.provider.breaker->localView();
        const bool active = view.state == BreakerState::ForcedOpen || view.state == BreakerState::ForcedClosed ||
                            (view.state == BreakerState::Open && view.remaining > Millis{0});
        if (active && !slot.pending) {
            slot.pending = true;
            ++slot.changes;
        }
    }
    for (auto& [name, route] : m_routes)
        if (route.generation > 0 && !route.pending) {
            route.pending = true;
            ++route.changes;
        }
    publishPending();
}

void FleetWorker::publishPending() {
    for (auto& slot : m_slots)
        if (slot.pending) publishVerdict(slot);
    for (auto& [name, route] : m_routes)
        if (route.pending) publishRoute(name);
}

// ---- publishing this replica's changes ---------------------------------------------------------------------

void FleetWorker::publishVerdict(Slot& slot) {
    if (!connected() || slot.publishing) return;
    const LocalBreakerView view = slot.provider.breaker->localView();
    std::string action = slot.pendingAction;
    if (view.state == BreakerState::HalfOpen && action.empty()) {
        slot.pending = false; // the probe under way will end in a verdict of its own
        return;
    }
    const std::string state(breakerStateName(view.state == BreakerState::HalfOpen ? BreakerState::Open : view.state));
    const bool clear = view.state == BreakerState::Closed; // closing (or a reset) starts the fleet's window afresh
    // Seeding an emptied Redis again with a verdict this replica had from another: its reason without our suffix.
    std::string reason = view.reason;
    if (const std::string suffix = " [replica " + view.origin + "]"; !view.origin.empty() && reason.ends_with(suffix))
        reason.resize(reason.size() - suffix.size());
    slot.publishing = true;
    const uint64_t changes = slot.changes;
    const std::size_t index = slot.index;
    evalScript(kVerdict, {},
               {m_config.prefix, slot.provider.id, state, std::to_string(view.remaining.count()),
                std::to_string(view.opens), view.origin.empty() ? m_replica : view.origin, reason, action,
                clear ? "1" : "0", m_instance},
               [this, index, changes](const redisReply* reply) {
                   Slot& s = m_slots[index];
                   s.publishing = false;
                   if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) return; // still pending: retried
                   s.appliedGeneration = std::max(s.appliedGeneration, static_cast<uint64_t>(reply->integer));
                   if (s.changes == changes) {
                       s.pending = false;
                       s.pendingAction.clear();
                   } else {
                       publishVerdict(s); // changed again meanwhile
                   }
               });
}

void FleetWorker::publishRoute(const std::string& name) {
    RouteSlot& route = m_routes[name];
    if (!connected() || route.publishing) return;
    const std::vector<RouteConfig> routes = m_host.fleetRoutes();
    auto it = std::find_if(routes.begin(), routes.end(), [&](const RouteConfig& r) { return r.name == name; });
    if (it == routes.end()) {
        route.pending = false;
        return;
    }
    route.publishing = true;
    const uint64_t changes = route.changes;
    evalScript(kRoute, {}, {m_config.prefix, name, fleet::targetsJson(it->targets), m_replica, m_instance},
               [this, name, changes](const redisReply* reply) {
                   RouteSlot& r = m_routes[name];
                   r.publishing = false;
                   if (reply == nullptr || reply->type != REDIS_REPLY_INTEGER) return;
                   r.generation = std::max(r.generation, static_cast<uint64_t>(reply->integer));
                   if (r.changes == changes) r.pending = false;
                   else publishRoute(name);
               });
}

void FleetWorker::onLocalEvent(const Event& event) {
    if (event.fromFleet) return; // applied here from the fleet: already the fleet's
    if (event.type == EventType::Route) {
        RouteSlot& route = m_routes[event.route];
        route.pending = true;
        ++route.changes;
        publishRoute(event.route);
        return;
    }
    Slot* slot = slotFor(event.provider);
    if (slot == nullptr) return;
    if (event.type == EventType::Operator) {
        if (!isOperatorAction(event.action)) return; // drills stay local
        slot->pendingAction = event.action;
        markChanged(*slot);
    } else if (event.type == EventType::Breaker) {
        if (event.to == "half_open") return claimProbe(*slot);
        if (event.to != "open" && event.to != "closed") return;
        const LocalBreakerView view = slot->provider.breaker->localView();
        // Operator transitions go out as their command (the Operator event); fleet ones are the fleet's already.
        if (view.byOperator || !view.origin.empty()) return;
        slot->pendingAction.clear();
        markChanged(*slot);
    }
}

void FleetWorker::markChanged(Slot& slot) {
    slot.pending = true;
    ++slot.changes;
    publishVerdict(slot); // while degraded it stays pending and goes out on rejoin
}

// ---- applying the fleet's changes ------------------------------------------------------------------------

int64_t FleetWorker::redisNowMs() const { return wallMs() + m_offsetMs; }

void FleetWorker::onChannel(const std::string& text) {
    const fleet::ChannelMessage message = fleet::parseChannelMessage(text);
    if (message.verdict) {
        Slot* slot = slotFor(message.verdict->provider);
        if (slot == nullptr || slot->pending || message.verdict->generation <= slot->appliedGeneration) return;
        const int64_t age = std::max<int64_t>(0, redisNowMs() - message.verdict->atMs);
        if (message.verdict->instance != m_instance) recordDelay(static_cast<double>(age) / 1000.0);
        applyVerdict(*slot, *message.verdict, std::max<int64_t>(0, message.verdict->remainingMs - age));
    } else if (message.route) {
        RouteSlot& route = m_routes[message.route->route];
        if (route.pending || message.route->generation <= route.generation) return;
        if (message.route->instance != m_instance)
            recordDelay(static_cast<double>(std::max<int64_t>(0, redisNowMs() - message.route->atMs)) / 1000.0);
        applyRoute(*message.route);
    }
}

void FleetWorker::applyVerdict(Slot& slot, const fleet::VerdictMessage& v, int64_t remainingMs) {
    slot.appliedGeneration = v.generation;
    if (v.instance == m_instance) return; // this process's own verdict, come back: the breaker is there already
    FleetVerdict verdict;
    verdict.state = v.state;
    verdict.remaining = Millis{remainingMs};
    verdict.opens = v.opens;
    verdict.origin = v.origin;
    verdict.reason = v.reason;
    verdict.clearWindow = v.action == "reset";
    if (!v.action.empty()) return m_host.applyFleetCommand(slot.index, v.action, verdict);
    if (v.state == BreakerState::Open && remainingMs <= 0) return; // over already: nothing to refuse
    slot.provider.breaker->applyFleetVerdict(verdict);
}

void FleetWorker::applyRoute(const fleet::RouteMessage& route) {
    RouteSlot& slot = m_routes[route.route];
    slot.generation = route.generation;
    if (route.instance == m_instance) return;
    if (!m_host.applyFleetRoute(route.route, route.targets, route.origin))
        Log::throttled(LogLevel::Warn, "fleet-route-" + route.route, std::chrono::seconds(60),
                       "fleet: route " + route.route + " from replica " + route.origin +
                           " names a route or provider this replica does not have; kept the local order",
                       {{"route", route.route}});
}

// ---- plumbing ----------------------------------------------------------------------------------------------

void FleetWorker::evalScript(std::size_t script, std::vector<std::string> keys, std::vector<std::string> args,
                             Reply reply) {
    std::vector<std::string> argv = {"EVALSHA", m_shas[script], std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    m_command.command(argv, [this, script, argv, reply = std::move(reply)](const redisReply* r) mutable {
        if (r != nullptr && fleet::isErrorReply(r) && fleet::replyText(r).starts_with("NOSCRIPT")) {
            // SCRIPT FLUSH (or a Redis that restarted between two replies): run the source, and load it again.
            argv[0] = "EVAL";
            argv[1] = kScripts[script]->source;
            m_command.command(argv, std::move(reply));
            m_command.command({"SCRIPT", "LOAD", kScripts[script]->source}, [this, script](const redisReply* loaded) {
                if (loaded != nullptr && loaded->type == REDIS_REPLY_STRING) m_shas[script] = fleet::replyText(loaded);
            });
            return;
        }
        reply(r);
    });
}

FleetWorker::Slot* FleetWorker::slotFor(const std::string& provider) {
    for (auto& slot : m_slots)
        if (slot.provider.id == provider) return &slot;
    return nullptr;
}

void FleetWorker::recordDelay(double seconds) {
    std::lock_guard lock(m_statusMutex);
    std::size_t i = 0;
    while (i < FleetStatus::kDelayBuckets.size() && seconds > FleetStatus::kDelayBuckets[i]) ++i;
    if (i < FleetStatus::kDelayBuckets.size()) ++m_status.delayCounts[i];
    ++m_status.delayCount;
    m_status.delaySumS += seconds;
}

FleetStatus FleetWorker::status() const {
    std::lock_guard lock(m_statusMutex);
    return m_status;
}

} // namespace fusebox
