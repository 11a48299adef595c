#include "config/ConfigLoader.h"

#include "config/ConfigReader.h"
#include "config/DefaultConfig.h"
#include "config/ListenAddress.h"
#include "config/RedisUrl.h"
#include "core/AtomicFile.h"
#include "spend/PriceTable.h"

#include <algorithm>
#include <set>

namespace fusebox {

namespace {

constexpr double kUnbounded = 1e301;

bool validName(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_' || c == '.';
    });
}

class Loader {
public:
    Loader(std::string file, const JsonPositions& positions, const LoadOptions& options, ConfigResult& result)
        : m_reader(std::move(file), positions, options.env, result.errors), m_options(options), m_result(result) {}

    Config load(const Json& root) {
        Config config;
        if (!m_reader.expectObject(root, "")) return config;
        m_reader.rejectUnknownKeys(root, "", {"listen", "admin_token", "data_dir", "io_threads", "breaker",
                                               "providers", "routes", "prices_file", "redis", "limits", "journal"});
        readListen(root, config);
        if (auto v = m_reader.string(root, "admin_token", "")) config.adminToken = *v;
        config.dataDir = expandHome(m_reader.string(root, "data_dir", "").value_or(""), m_options.env);
        if (config.dataDir.empty()) config.dataDir = defaultDataDir(m_options.env);
        if (auto v = m_reader.integer(root, "io_threads", "", 0, 64)) config.ioThreads = static_cast<int>(*v);
        if (auto it = root.find("breaker"); it != root.end()) readBreaker(*it, "breaker", config.breaker);
        readProviders(root, config);
        readRoutes(root, config);
        if (auto v = m_reader.string(root, "prices_file", "")) config.pricesFile = expandHome(*v, m_options.env);
        if (!config.pricesFile.empty()) {
            PriceTable prices;
            if (auto error = prices.mergeFile(config.pricesFile)) m_reader.error("prices_file", *error);
        }
        readRedis(root, config);
        readLimits(root, config);
        readJournal(root, config);
        checkAdminExposure(config);
        return config;
    }

private:
    void readListen(const Json& root, Config& config) {
        std::string text = "127.0.0.1:4747";
        std::string path = "listen";
        if (m_options.listenOverride) {
            text = *m_options.listenOverride;
            path = "--listen";
        } else if (auto v = m_reader.string(root, "listen", "")) {
            text = *v;
        }
        std::string error;
        if (auto address = parseListenAddress(text, error)) {
            config.listenHost = address->host;
            config.listenPort = address->port;
        } else if (path == "--listen") {
            m_result.errors.push_back({"", 0, 0, path, error});
        } else {
            m_reader.error(path, error);
        }
        m_listenPath = path;
    }

    void checkAdminExposure(const Config& config) {
        if (isLoopbackHost(config.listenHost) || !config.adminToken.empty()) return;
        const std::string message = "listening on " + config.listenHost +
                                    ", which is not a loopback address, needs an admin_token (set "
                                    "\"admin_token\": \"${FUSEBOX_ADMIN_TOKEN}\" and export that variable), "
                                    "or the admin API would be open to the network";
        if (m_listenPath == "--listen")
            m_result.errors.push_back({"", 0, 0, m_listenPath, message});
        else
            m_reader.error("listen", message);
    }

    void readBreaker(const Json& object, const std::string& path, BreakerPolicy& policy) {
        if (!m_reader.expectObject(object, path)) return;
        m_reader.rejectUnknownKeys(object, path,
                                   {"consecutive_failures", "window_s", "min_calls", "failure_rate", "slow_call_ms",
                                    "slow_call_rate", "open_s", "backoff", "max_open_s", "jitter", "half_open_probes",
                                    "close_after", "rate_limit_open_s", "failure_outcomes"});
        auto asInt = [](int64_t v) { return static_cast<int>(v); };
        if (auto v = m_reader.integer(object, "consecutive_failures", path, 0, 1'000'000)) policy.consecutiveFailures = asInt(*v);
        if (auto v = m_reader.integer(object, "window_s", path, 1, 3600)) policy.windowS = asInt(*v);
        if (auto v = m_reader.integer(object, "min_calls", path, 1, 1'000'000)) policy.minCalls = asInt(*v);
        if (auto v = m_reader.number(object, "failure_rate", path, 0, 1)) policy.failureRate = *v;
        if (auto v = m_reader.integer(object, "slow_call_ms", path, 1, 86'400'000)) policy.slowCallMs = asInt(*v);
        if (auto v = m_reader.number(object, "slow_call_rate", path, 0, 1)) policy.slowCallRate = *v;
        if (auto v = m_reader.number(object, "open_s", path, 0, 86'400, true)) policy.openS = *v;
        if (auto v = m_reader.number(object, "backoff", path, 1, 100)) policy.backoff = *v;
        if (auto v = m_reader.number(object, "max_open_s", path, 0, 86'400, true)) policy.maxOpenS = *v;
        if (auto v = m_reader.number(object, "jitter", path, 0, 0.99)) policy.jitter = *v;
        if (auto v = m_reader.integer(object, "half_open_probes", path, 1, 1000)) policy.halfOpenProbes = asInt(*v);
        if (auto v = m_reader.integer(object, "close_after", path, 1, 1000)) policy.closeAfter = asInt(*v);
        if (auto v = m_reader.number(object, "rate_limit_open_s", path, 0, 86'400)) policy.rateLimitOpenS = *v;
        if (auto it = object.find("failure_outcomes"); it != object.end())
            readFailureOutcomes(*it, ConfigReader::join(path, "failure_outcomes"), policy);
        if (policy.maxOpenS < policy.openS) {
            const std::string where = object.contains("max_open_s") ? ConfigReader::join(path, "max_open_s") : path;
            m_reader.error(where, "max_open_s (" + std::to_string(policy.maxOpenS) +
                                      ") must be at least open_s (" + std::to_string(policy.openS) + ")");
        }
    }

    void readFailureOutcomes(const Json& value, const std::string& path, BreakerPolicy& policy) {
        if (!m_reader.expectArray(value, path)) return;
        OutcomeSet set;
        for (std::size_t i = 0; i < value.size(); ++i) {
            const auto& item = value[i];
            const std::string itemPath = ConfigReader::index(path, i);
            auto outcome = item.is_string() ? outcomeFromName(item.get_ref<const std::string&>()) : std::nullopt;
            if (!outcome || *outcome == Outcome::Success || *outcome == Outcome::ShortCircuited) {
                m_reader.error(itemPath, "must be one of client_error, auth_error, rate_limited, server_error, "
                                         "timeout, connect_error, bad_response, cancelled (got " +
                                             (item.is_primitive() ? item.dump() : jsonTypeName(item)) + ")");
                continue;
            }
            set.insert(*outcome);
        }
        policy.failureOutcomes = set;
    }

    void readProviders(const Json& root, Config& config) {
        auto it = root.find("providers");
        if (it == root.end() || !m_reader.expectArray(*it, "providers")) return;
        std::set<std::string> seen;
        for (std::size_t i = 0; i < it->size(); ++i) {
            const std::string path = ConfigReader::index("providers", i);
            const Json& object = (*it)[i];
            if (!m_reader.expectObject(object, path)) continue;
            m_reader.rejectUnknownKeys(object, path, {"id", "kind", "base_url", "api_key", "timeouts_ms", "breaker",
                                                      "budget_usd_per_day", "api"});
            ProviderConfig provider;
            provider.breaker = config.breaker;
            if (auto id = m_reader.string(object, "id", path, true)) {
                if (!validName(*id))
                    m_reader.error(ConfigReader::join(path, "id"),
                                   "\"" + *id + "\" is not a valid id (letters, digits, '-', '_' and '.')");
                else if (!seen.insert(*id).second)
                    m_reader.error(ConfigReader::join(path, "id"), "duplicate provider id \"" + *id + "\"");
                provider.id = *id;
            }
            if (auto kind = m_reader.string(object, "kind", path, true)) {
                if (*kind == "openai") provider.kind = ProviderKind::OpenAI;
                else if (*kind == "anthropic") provider.kind = ProviderKind::Anthropic;
                else m_reader.error(ConfigReader::join(path, "kind"), "must be \"openai\" or \"anthropic\" (got \"" + *kind + "\")");
            }
            if (auto api = m_reader.string(object, "api", path)) {
                // Which of OpenAI's APIs the server speaks: many OpenAI-compatible servers (vLLM, Ollama, Groq)
                // have Chat Completions and no Responses API. Anthropic has one API only: a value there is a typo.
                const std::string at = ConfigReader::join(path, "api");
                if (provider.kind != ProviderKind::OpenAI)
                    m_reader.error(at, "only a provider of kind \"openai\" may say which API it speaks");
                else if (*api == "chat") provider.servesResponses = false;
                else if (*api != "responses")
                    m_reader.error(at, "must be \"responses\" (the default) or \"chat\" (got \"" + *api + "\")");
            }
            if (auto url = m_reader.string(object, "base_url", path, true)) {
                if (!url->starts_with("http://") && !url->starts_with("https://"))
                    m_reader.error(ConfigReader::join(path, "base_url"),
                                   "must start with http:// or https:// (got \"" + *url + "\")");
                provider.baseUrl = *url;
                while (provider.baseUrl.ends_with('/')) provider.baseUrl.pop_back();
            }
            if (auto key = m_reader.expandedString(object, "api_key", path)) {
                provider.apiKey = key->value;
                provider.apiKeyVariables = key->variables;
            }
            if (auto t = object.find("timeouts_ms"); t != object.end())
                readTimeouts(*t, ConfigReader::join(path, "timeouts_ms"), provider.timeouts);
            if (auto b = object.find("breaker"); b != object.end())
                readBreaker(*b, ConfigReader::join(path, "breaker"), provider.breaker);
            if (auto v = m_reader.number(object, "budget_usd_per_day", path, 0, kUnbounded, true))
                provider.budgetUsdPerDay = *v;
            if (!provider.hasKey() && !provider.id.empty())
                m_result.warnings.push_back(noKeyWarning(provider));
            config.providers.push_back(std::move(provider));
        }
    }

    static std::string noKeyWarning(const ProviderConfig& provider) {
        std::string text = "provider " + provider.id + " has no key";
        if (!provider.apiKeyVariables.empty()) text += ": set " + provider.apiKeyVariables.front();
        return text + "; its requests fail over (auth_error)";
    }

    void readTimeouts(const Json& object, const std::string& path, ProviderTimeouts& timeouts) {
        if (!m_reader.expectObject(object, path)) return;
        m_reader.rejectUnknownKeys(object, path, {"connect", "first_byte", "idle", "total"});
        constexpr int64_t kDay = 86'400'000;
        if (auto v = m_reader.integer(object, "connect", path, 1, kDay)) timeouts.connect = Millis{*v};
        if (auto v = m_reader.integer(object, "first_byte", path, 1, kDay)) timeouts.firstByte = Millis{*v};
        if (auto v = m_reader.integer(object, "idle", path, 1, kDay)) timeouts.idle = Millis{*v};
        if (auto v = m_reader.integer(object, "total", path, 1, kDay)) timeouts.total = Millis{*v};
    }

    void readRoutes(const Json& root, Config& config) {
        auto it = root.find("routes");
        if (it == root.end() || !m_reader.expectArray(*it, "routes")) return;
        std::set<std::string> seen;
        for (std::size_t i = 0; i < it->size(); ++i) {
            const std::string path = ConfigReader::index("routes", i);
            const Json& object = (*it)[i];
            if (!m_reader.expectObject(object, path)) continue;
            m_reader.rejectUnknownKeys(object, path, {"name", "targets", "wait_for_recovery_ms"});
            RouteConfig route;
            if (auto name = m_reader.string(object, "name", path, true)) {
                if (!validName(*name))
                    m_reader.error(ConfigReader::join(path, "name"),
                                   "\"" + *name + "\" is not a valid route name (letters, digits, '-', '_' and '.'; "
                                                  "a '/' would read as PROVIDER/MODEL)");
                else if (!seen.insert(*name).second)
                    m_reader.error(ConfigReader::join(path, "name"), "duplicate route name \"" + *name + "\"");
                route.name = *name;
            }
            if (auto v = m_reader.integer(object, "wait_for_recovery_ms", path, 0, 600'000))
                route.waitForRecoveryMs = static_cast<int>(*v);
            auto targets = object.find("targets");
            if (targets == object.end()) {
                m_reader.error(path, "missing required key \"targets\"");
            } else if (m_reader.expectArray(*targets, ConfigReader::join(path, "targets"))) {
                if (targets->empty())
                    m_reader.error(ConfigReader::join(path, "targets"), "needs at least one target");
                for (std::size_t t = 0; t < targets->size(); ++t)
                    readTarget((*targets)[t], ConfigReader::index(ConfigReader::join(path, "targets"), t), config,
                               route);
            }
            config.routes.push_back(std::move(route));
        }
    }

    void readTarget(const Json& object, const std::string& path, const Config& config, RouteConfig& route) {
        if (!m_reader.expectObject(object, path)) return;
        m_reader.rejectUnknownKeys(object, path, {"provider", "model"});
        RouteTarget target;
        if (auto provider = m_reader.string(object, "provider", path, true)) {
            if (config.findProvider(*provider) == nullptr)
                m_reader.error(ConfigReader::join(path, "provider"), "no provider has the id \"" + *provider + "\"");
            target.provider = *provider;
        }
        if (auto model = m_reader.string(object, "model", path)) {
            if (model->empty()) m_reader.error(ConfigReader::join(path, "model"), "must not be empty (leave it out to pass the client's model through)");
            target.model = *model;
        }
        route.targets.push_back(std::move(target));
    }

    void readRedis(const Json& root, Config& config) {
        auto it = root.find("redis");
        if (it == root.end() || !m_reader.expectObject(*it, "redis")) return;
        m_reader.rejectUnknownKeys(*it, "redis", {"url", "prefix", "password", "replica_id"});
        if (auto v = m_reader.string(*it, "url", "redis")) {
            std::string error;
            if (!v->empty() && !parseRedisUrl(*v, error))
                m_reader.error("redis.url", error);
            config.redis.url = *v;
        }
        if (auto v = m_reader.string(*it, "prefix", "redis")) {
            // Keys are PREFIX:...; a colon or space inside would make two fleets' keys collide or read oddly.
            if (!validName(*v)) m_reader.error("redis.prefix", "must be letters, digits, '-', '_' or '.' (got \"" + *v + "\")");
            config.redis.prefix = *v;
        }
        if (auto v = m_reader.expandedString(*it, "password", "redis")) {
            config.redis.password = v->value;
            config.redis.passwordVariables = v->variables;
        }
        if (auto v = m_reader.string(*it, "replica_id", "redis")) {
            if (!v->empty() && (v->size() > 200 || v->find_first_of(" \t\r\n\"") != std::string::npos))
                m_reader.error("redis.replica_id", "must be at most 200 characters without spaces or quotes");
            config.redis.replicaId = *v;
        }
    }

    void readLimits(const Json& root, Config& config) {
        auto it = root.find("limits");
        if (it == root.end() || !m_reader.expectObject(*it, "limits")) return;
        m_reader.rejectUnknownKeys(*it, "limits",
                                   {"max_body_bytes", "max_header_bytes", "max_body_memory_bytes", "max_connections",
                                    "max_retry_after_s"});
        if (auto v = m_reader.integer(*it, "max_body_bytes", "limits", 1024, int64_t{1} << 32)) config.limits.maxBodyBytes = *v;
        if (auto v = m_reader.integer(*it, "max_header_bytes", "limits", 1024, 1 << 20)) config.limits.maxHeaderBytes = *v;
        if (auto v = m_reader.integer(*it, "max_body_memory_bytes", "limits", 1 << 20, int64_t{1} << 40))
            config.limits.maxBodyMemoryBytes = *v;
        if (auto v = m_reader.integer(*it, "max_connections", "limits", 0, 1 << 20)) config.limits.maxConnections = *v;
        if (auto v = m_reader.integer(*it, "max_retry_after_s", "limits", 1, 3600)) config.limits.maxRetryAfterS = *v;
    }

    void readJournal(const Json& root, Config& config) {
        auto it = root.find("journal");
        if (it == root.end() || !m_reader.expectObject(*it, "journal")) return;
        m_reader.rejectUnknownKeys(*it, "journal", {"enabled", "retention_days"});
        if (auto v = m_reader.boolean(*it, "enabled", "journal")) config.journal.enabled = *v;
        if (auto v = m_reader.integer(*it, "retention_days", "journal", 1, 3650)) config.journal.retentionDays = static_cast<int>(*v);
    }

    ConfigReader m_reader;
    const LoadOptions& m_options;
    ConfigResult& m_result;
    std::string m_listenPath = "listen";
};

} // namespace

ConfigResult parseConfig(std::string_view text, const std::string& fileName, const LoadOptions& options) {
    ConfigResult result;
    // The position scan also finds what makes a text not JSON, with its line and column, including what
    // nlohmann reports as out_of_range rather than parse_error (a number like 1e999 that no double holds).
    const JsonPositions positions = scanJsonPositions(text);
    if (positions.syntaxError) {
        const auto& [pos, message] = *positions.syntaxError;
        result.errors.push_back({fileName, pos.line, pos.column, "", "invalid JSON: " + message});
        return result;
    }
    // The same parser has just accepted the text; no exceptions all the same, since none may leave the loader.
    const Json root = Json::parse(text, nullptr, false);
    if (root.is_discarded()) {
        result.errors.push_back({fileName, 0, 0, "", "invalid JSON"});
        return result;
    }
    for (const auto& [path, pos] : positions.duplicateKeys)
        result.errors.push_back({fileName, pos.line, pos.column, path, "duplicate key (the second would silently win)"});

    Config config;
    try {
        Loader loader(fileName, positions, options, result);
        config = loader.load(root);
    } catch (const std::exception& e) {
        // Every access above checks its type first; this is the last line, so that a bug is a config error
        // naming the file, not an abort in `fusebox --check-config`.
        result.errors.push_back({fileName, 0, 0, "", std::string("cannot read this config: ") + e.what()});
    }
    if (!result.errors.empty()) {
        // In the order a person reads the file; errors without a position (--listen) go first.
        std::stable_sort(result.errors.begin(), result.errors.end(), [](const ConfigError& a, const ConfigError& b) {
            return std::pair(a.line, a.column) < std::pair(b.line, b.column);
        });
        return result;
    }
    config.sourcePath = fileName;
    result.config = std::move(config);
    return result;
}

ConfigResult loadConfigFile(const std::string& path, const LoadOptions& options) {
    std::string text, error;
    if (!readFile(path, text, error)) {
        ConfigResult result;
        result.errors.push_back({path, 0, 0, "", error});
        return result;
    }
    return parseConfig(text, path, options);
}

} // namespace fusebox
