#pragma once
// The validated configuration (CONTRACT §2). Only ConfigLoader produces one; everything else reads it.
#include "breaker/BreakerPolicy.h"
#include "core/Clock.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fusebox {

enum class ProviderKind { OpenAI, Anthropic };
const char* providerKindName(ProviderKind kind);

struct ProviderTimeouts {
    Millis connect{5000};
    Millis firstByte{60000};
    Millis idle{60000}; // between two stream events
    Millis total{600000};
    bool operator==(const ProviderTimeouts&) const = default;
};

struct ProviderConfig {
    std::string id;
    ProviderKind kind = ProviderKind::OpenAI;
    std::string baseUrl;
    std::string apiKey;                       // expanded; empty means "no key"
    std::vector<std::string> apiKeyVariables; // the ${NAME}s api_key refers to, for "set X" messages
    ProviderTimeouts timeouts;
    BreakerPolicy breaker; // the top-level defaults with this provider's overrides applied
    std::optional<double> budgetUsdPerDay;
    // Kind openai only: false when the provider says "api": "chat" (vLLM, Ollama, Groq, ...: Chat Completions
    // only), so a Responses request reaches it translated.
    bool servesResponses = true;

    bool hasKey() const { return !apiKey.empty(); }
};

struct RouteTarget {
    std::string provider;
    std::string model; // empty: the client's model passes through
    bool operator==(const RouteTarget&) const = default;
};

struct RouteConfig {
    std::string name;
    std::vector<RouteTarget> targets;
    int waitForRecoveryMs = 0;
};

struct Limits {
    int64_t maxBodyBytes = 32 * 1024 * 1024;
    int64_t maxHeaderBytes = 64 * 1024;
    // The request bodies in flight together, counted with their parsed JSON (README "Limits").
    int64_t maxBodyMemoryBytes = 1024LL * 1024 * 1024;
    // Client connections at once; 0: derived from the file descriptor limit (README "Limits").
    int64_t maxConnections = 0;
    // The most a 503's Retry-After header says, so that SDKs keep retrying (the OpenAI SDK ignores 60 s and
    // more); the body's retry_after_s still says the whole wait.
    int64_t maxRetryAfterS = 30;
};

struct RedisConfig {
    std::string url;    // empty: no fleet
    std::string prefix = "fusebox";
    std::string password;                      // expanded; never logged or shown
    std::vector<std::string> passwordVariables; // the ${NAME}s it refers to, for messages
    std::string replicaId;                     // expanded; empty: HOSTNAME:PORT, decided at start
    bool enabled() const { return !url.empty(); }
};

struct JournalConfig {
    bool enabled = true;
    int retentionDays = 30;
};

struct Config {
    std::string sourcePath; // the file this came from; empty when built in memory
    std::string listenHost = "127.0.0.1";
    uint16_t listenPort = 4747;
    std::string adminToken; // expanded; empty means "loopback clients only"
    std::string dataDir;    // expanded (~ and ${NAME})
    int ioThreads = 0;      // 0: one per core
    BreakerPolicy breaker;
    std::vector<ProviderConfig> providers;
    std::vector<RouteConfig> routes;
    std::string pricesFile;
    RedisConfig redis;
    Limits limits;
    JournalConfig journal;

    const ProviderConfig* findProvider(std::string_view id) const;
    const RouteConfig* findRoute(std::string_view name) const;
};

} // namespace fusebox
