// The config loader: the whole schema, every kind of error with file, line, column and key path,
// ${NAME} expansion, and the default config written on first start.
#include "config/ConfigLoader.h"
#include "config/RedisUrl.h"
#include "config/DefaultConfig.h"
#include "config/ListenAddress.h"
#include "core/AtomicFile.h"
#include "TestSupport.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <map>

using namespace fusebox;
using fusebox::test::fakeEnv;

namespace {

ConfigResult parse(const std::string& text, std::map<std::string, std::string> env = {{"HOME", "/home/op"}}) {
    LoadOptions options;
    options.env = fakeEnv(std::move(env));
    return parseConfig(text, "fusebox.json", options);
}

// The one error a document produces, or a failure naming them all.
ConfigError onlyError(const ConfigResult& r) {
    if (r.errors.size() != 1) {
        QTest::qFail(("expected one error, got:\n" + formatErrors(r.errors)).c_str(), __FILE__, __LINE__);
        return {};
    }
    return r.errors[0];
}

// NOTE: moc (Qt 6.4) scans raw string literals as if they were plain ones: a "//" inside reads as a comment
// and an odd number of quotes ends the string early, and moc then silently loses the test class. So the
// documents here write URLs as "http:\/\/..." (a valid JSON escape of '/').
const char* kMinimal = R"({"providers": [{"id": "openai", "kind": "openai", "base_url": "https:\/\/api.openai.com/v1", "api_key": "k"}], "routes": [{"name": "default", "targets": [{"provider": "openai"}]}]})";

} // namespace

class ConfigTest : public QObject {
    Q_OBJECT
private slots:
    void contractExampleLoads() {
        // CONTRACT §2's example, verbatim.
        std::string text, error;
        QVERIFY(readFile(test::sourceDir() + "/tests/engine/data/contract-example.json", text, error));
        auto r = parse(text, {{"HOME", "/home/op"}, {"OPENAI_API_KEY", "sk-test"}, {"FUSEBOX_ADMIN_TOKEN", "tok"}});
        QVERIFY2(r.ok(), formatErrors(r.errors).c_str());
        const Config& c = *r.config;
        QCOMPARE(c.listenHost, std::string("127.0.0.1"));
        QCOMPARE(c.listenPort, uint16_t{4747});
        QCOMPARE(c.adminToken, std::string("tok"));
        QCOMPARE(c.dataDir, std::string("/home/op/.local/share/fusebox"));
        QCOMPARE(c.providers.size(), size_t{2});
        QCOMPARE(c.providers[0].apiKey, std::string("sk-test"));
        QCOMPARE(c.providers[0].breaker.failureRate, 0.4);      // the override
        QCOMPARE(c.providers[0].breaker.openS, 30.0);           // the rest from the defaults
        QCOMPARE(c.providers[1].breaker.failureRate, 0.5);
        QCOMPARE(c.providers[0].timeouts.firstByte, Millis{60000});
        QVERIFY(!c.providers[1].hasKey());
        QCOMPARE(c.providers[1].apiKeyVariables, std::vector<std::string>{"ANTHROPIC_API_KEY"});
        QCOMPARE(r.warnings.size(), size_t{1});
        QVERIFY(r.warnings[0].find("set ANTHROPIC_API_KEY") != std::string::npos);
        QCOMPARE(c.routes[1].targets[0].model, std::string("gpt-4o-mini"));
        QVERIFY(c.providers[0].breaker.failureOutcomes.contains(Outcome::AuthError));
        QVERIFY(!c.providers[0].breaker.failureOutcomes.contains(Outcome::RateLimited));
    }

    void defaultsWhenKeysAreAbsent() {
        auto r = parse("{}");
        QVERIFY2(r.ok(), formatErrors(r.errors).c_str());
        QCOMPARE(r.config->listenPort, uint16_t{4747});
        QCOMPARE(r.config->breaker, BreakerPolicy{});
        QCOMPARE(r.config->limits.maxBodyBytes, int64_t{32 * 1024 * 1024});
        QCOMPARE(r.config->limits.maxRetryAfterS, int64_t{30});
        QCOMPARE(r.config->dataDir, std::string("/home/op/.local/share/fusebox"));
    }

    void invalidJsonNamesLineAndColumn() {
        auto e = onlyError(parse("{\n  \"listen\": \"127.0.0.1:1\",\n}"));
        QCOMPARE(e.file, std::string("fusebox.json"));
        QCOMPARE(e.line, 3);
        QCOMPARE(e.column, 1);
        QVERIFY(e.message.starts_with("invalid JSON"));
    }

    void outOfRangeNumbersAreErrorsNotAborts() {
        // nlohmann throws these as out_of_range, not parse_error: they used to escape the loader (abort, exit 134).
        auto e = onlyError(parse("{\n  \"breaker\": {\n    \"open_s\": 1e999\n  }\n}"));
        QCOMPARE(e.file, std::string("fusebox.json"));
        QCOMPARE(e.line, 3);
        QCOMPARE(e.column, 15);
        QVERIFY2(e.message.starts_with("invalid JSON") && e.message.find("1e999") != std::string::npos &&
                     e.message.find("out of range") != std::string::npos,
                 e.message.c_str());
        for (const char* text : {"{\"listen\": -1e999}", "[1e400]", "{\"io_threads\": 1E+309", "1e999"}) {
            auto r = parse(text);
            QVERIFY2(!r.ok() && r.errors.size() == 1 && r.errors[0].line == 1, text);
        }
        // Large but finite: an ordinary range error with the key path.
        auto big = onlyError(parse(R"({"breaker": {"backoff": 1e308}})"));
        QCOMPARE(big.path, std::string("breaker.backoff"));
        auto huge = parse(R"({"breaker": {"min_calls": 18446744073709551616, "window_s": -9223372036854775809}})");
        QCOMPARE(huge.errors.size(), size_t{2});
        QCOMPARE(huge.errors[0].path, std::string("breaker.min_calls"));
        QCOMPARE(huge.errors[1].path, std::string("breaker.window_s"));
    }

    void deepNestingIsAnErrorNotAnExhaustedMachine() {
        // The position scan keeps a path per level: 100,000 levels used to take gigabytes, then the OOM killer.
        const std::string deep = "{\"breaker\": {\"failure_outcomes\": " + std::string(100'000, '[') +
                                 std::string(100'000, ']') + "}}";
        auto e = onlyError(parse(deep));
        QCOMPARE(e.line, 1);
        QVERIFY2(e.message.find("nested deeper than 64 levels") != std::string::npos, e.message.c_str());
        QVERIFY(!parse(std::string(65, '[') + std::string(65, ']')).ok());
    }

    void outOfRangeNumberInThePricesFileIsAnError() {
        QTemporaryDir dir;
        const std::string prices = test::writeTempFile(dir, "prices.json", R"({"models": {"m": {"input_per_mtok": 1e999}}})");
        auto r = parse("{\"prices_file\": \"" + prices + "\"}");
        QVERIFY(!r.ok());
        QCOMPARE(r.errors[0].path, std::string("prices_file"));
        QVERIFY2(r.errors[0].message.find("prices.json") != std::string::npos, r.errors[0].message.c_str());
    }

    void nestedValuesOfTheWrongTypeNameTheirPath() {
        // Every value is read through a checked accessor: a wrong type anywhere is an error with its path.
        const std::string text = R"({"breaker": {"failure_outcomes": [[[["server_error"]]]], "open_s": null},
            "providers": [{"id": 1, "kind": [], "base_url": {}, "api_key": true, "timeouts_ms": [1],
                           "breaker": "x", "budget_usd_per_day": "5"}],
            "routes": [{"name": "r", "targets": [{"provider": null, "model": 5}], "wait_for_recovery_ms": 1.5}, 3],
            "redis": {"url": 1, "prefix": []}, "limits": [], "journal": {"retention_days": true}, "data_dir": 0})";
        auto r = parse(text);
        QVERIFY(!r.ok());
        for (const char* path : {"breaker.failure_outcomes[0]", "breaker.open_s", "providers[0].id", "providers[0].kind",
                                 "providers[0].base_url", "providers[0].api_key", "providers[0].timeouts_ms",
                                 "providers[0].breaker", "providers[0].budget_usd_per_day", "routes[0].targets[0].provider",
                                 "routes[0].targets[0].model", "routes[0].wait_for_recovery_ms", "routes[1]", "redis.url",
                                 "redis.prefix", "limits", "journal.retention_days", "data_dir"}) {
            bool found = false;
            for (const auto& e : r.errors) found = found || e.path == path;
            QVERIFY2(found, (std::string(path) + " missing from\n" + formatErrors(r.errors)).c_str());
        }
    }

    void unknownKeySuggestsTheNearOne() {
        auto e = onlyError(parse("{\n  \"breaker\": {\n    \"failure_rat\": 0.5\n  }\n}"));
        QCOMPARE(e.path, std::string("breaker.failure_rat"));
        QCOMPARE(e.line, 3);
        QCOMPARE(e.column, 5);
        QVERIFY2(e.message.find("did you mean \"failure_rate\"") != std::string::npos, e.message.c_str());
    }

    void wrongTypesAndRangesNameTheKeyPath() {
        const std::string text = R"({
  "providers": [
    { "id": "a", "kind": "openai", "base_url": "http:\/\/x/v1" },
    { "id": "b", "kind": "openai", "base_url": "http:\/\/y/v1",
      "breaker": { "failure_rate": 1.5, "window_s": "60", "min_calls": 2.5, "jitter": 1 } }
  ]
})";
        auto r = parse(text);
        QVERIFY(!r.ok());
        QCOMPARE(r.errors.size(), size_t{4});
        QCOMPARE(r.errors[0].path, std::string("providers[1].breaker.failure_rate"));
        QCOMPARE(r.errors[0].line, 5);
        QVERIFY2(r.errors[0].message.find("between 0 and 1 (got 1.5)") != std::string::npos, r.errors[0].message.c_str());
        QCOMPARE(r.errors[1].path, std::string("providers[1].breaker.window_s"));
        QVERIFY(r.errors[1].message.find("whole number (got a string)") != std::string::npos);
        QCOMPARE(r.errors[2].path, std::string("providers[1].breaker.min_calls"));
        QCOMPARE(r.errors[3].path, std::string("providers[1].breaker.jitter"));
        QCOMPARE(r.errors[0].format().substr(0, 18), std::string("fusebox.json:5:20:"));
    }

    void crossFieldRules() {
        auto e = onlyError(parse(R"({"breaker": {"open_s": 60, "max_open_s": 30}})"));
        QCOMPARE(e.path, std::string("breaker.max_open_s"));
        QVERIFY(e.message.find("at least open_s") != std::string::npos);
    }

    void duplicateProviderIdsAndRoutes() {
        const std::string text = R"({
  "providers": [
    { "id": "a", "kind": "openai", "base_url": "http:\/\/x/v1" },
    { "id": "a", "kind": "anthropic", "base_url": "http:\/\/y" } ],
  "routes": [
    { "name": "r", "targets": [ { "provider": "a" } ] },
    { "name": "r", "targets": [ { "provider": "ghost" } ] } ]
})";
        auto r = parse(text);
        QCOMPARE(r.errors.size(), size_t{3});
        QCOMPARE(r.errors[0].path, std::string("providers[1].id"));
        QCOMPARE(r.errors[0].line, 4);
        QVERIFY(r.errors[0].message.find("duplicate provider id \"a\"") != std::string::npos);
        QCOMPARE(r.errors[1].path, std::string("routes[1].name"));
        QCOMPARE(r.errors[2].path, std::string("routes[1].targets[0].provider"));
        QCOMPARE(r.errors[2].line, 7);
        QVERIFY(r.errors[2].message.find("no provider has the id \"ghost\"") != std::string::npos);
    }

    void duplicateJsonKeysAreErrors() {
        auto e = onlyError(parse("{\n \"listen\": \"127.0.0.1:1\",\n \"listen\": \"127.0.0.1:2\"\n}"));
        QCOMPARE(e.path, std::string("listen"));
        QCOMPARE(e.line, 3);
        QVERIFY(e.message.find("duplicate key") != std::string::npos);
    }

    void missingRequiredKeys() {
        auto r = parse(R"({"providers": [ { "kind": "openai" } ], "routes": [ { "name": "x" } ]})");
        QCOMPARE(r.errors.size(), size_t{3});
        QCOMPARE(r.errors[0].path, std::string("providers[0]"));
        QVERIFY(r.errors[0].message.find("\"id\"") != std::string::npos);
        QVERIFY(r.errors[1].message.find("\"base_url\"") != std::string::npos);
        QVERIFY(r.errors[2].message.find("\"targets\"") != std::string::npos);
    }

    void badValuesOfEveryKind() {
        struct Case {
            const char* json;
            const char* path;
            const char* says;
        };
        const Case cases[] = {
            {R"({"listen": "nope"})", "listen", "HOST:PORT"},
            {R"({"listen": "127.0.0.1:99999"})", "listen", "0 to 65535"},
            {R"({"providers": [{"id": "a/b", "kind": "openai", "base_url": "http:\/\/x"}]})", "providers[0].id", "not a valid id"},
            {R"({"providers": [{"id": "a", "kind": "gemini", "base_url": "http:\/\/x"}]})", "providers[0].kind", "\"openai\" or \"anthropic\""},
            {R"({"providers": [{"id": "a", "kind": "openai", "base_url": "ftp:\/\/x"}]})", "providers[0].base_url", "must start with http"},
            {R"({"providers": [{"id": "a", "kind": "openai", "base_url": "http:\/\/x", "timeouts_ms": {"idle": 0}}]})", "providers[0].timeouts_ms.idle", "between 1"},
            {R"({"providers": [{"id": "a", "kind": "openai", "base_url": "http:\/\/x", "budget_usd_per_day": -1}]})", "providers[0].budget_usd_per_day", "> 0"},
            {R"({"breaker": {"failure_outcomes": ["server_error", "success"]}})", "breaker.failure_outcomes[1]", "must be one of"},
            {R"({"breaker": {"failure_outcomes": "server_error"}})", "breaker.failure_outcomes", "must be an array"},
            {R"({"breaker": {"backoff": 0.5}})", "breaker.backoff", "between 1 and 100"},
            {R"({"breaker": {"half_open_probes": 0}})", "breaker.half_open_probes", "between 1"},
            {R"({"routes": [{"name": "r", "targets": []}]})", "routes[0].targets", "at least one target"},
            {R"({"routes": [{"name": "a/b", "targets": []}]})", "routes[0].name", "not a valid route name"},
            {R"({"routes": "none"})", "routes", "must be an array"},
            {R"({"redis": {"url": "http:\/\/x"}})", "redis.url", "must start with redis"},
            {R"({"redis": {"url": "redis:\/\/h:99999\/0"}})", "redis.url", "1 to 65535"},
            {R"({"redis": {"url": "redis:\/\/h:6379\/x"}})", "redis.url", "database"},
            {R"({"redis": {"url": "unix:\/\/relative.sock"}})", "redis.url", "absolute socket path"},
            {R"({"redis": {"prefix": "a:b"}})", "redis.prefix", "letters, digits"},
            {R"({"redis": {"replica_id": "has space"}})", "redis.replica_id", "without spaces"},
            {R"({"redis": {"pasword": "x"}})", "redis.pasword", "password"},
            {R"({"limits": {"max_body_bytes": 10}})", "limits.max_body_bytes", "between 1024"},
            {R"({"limits": {"max_retry_after_s": 0}})", "limits.max_retry_after_s", "between 1 and 3600"},
            {R"({"limits": {"max_retry_after_s": 3601}})", "limits.max_retry_after_s", "between 1 and 3600"},
            {R"({"journal": {"enabled": "yes"}})", "journal.enabled", "true or false"},
            {"{\"admin_token\": \"${BROKEN\"}", "admin_token", "unterminated"}, // not raw: moc again
            {R"({"io_threads": -1})", "io_threads", "between 0"},
            {R"([1, 2])", "", "must be an object"},
        };
        for (const Case& c : cases) {
            auto r = parse(c.json);
            QVERIFY2(!r.ok(), c.json);
            bool found = false;
            for (const auto& e : r.errors)
                found = found || (e.path == c.path && e.message.find(c.says) != std::string::npos);
            QVERIFY2(found, (std::string(c.json) + "\n=> " + formatErrors(r.errors)).c_str());
        }
    }

    void nonLoopbackListenNeedsAnAdminToken() {
        auto e = onlyError(parse(R"({"listen": "0.0.0.0:4747"})"));
        QCOMPARE(e.path, std::string("listen"));
        QVERIFY(e.message.find("admin_token") != std::string::npos);
        QVERIFY(parse(R"({"listen": "0.0.0.0:4747", "admin_token": "t"})").ok());
        QVERIFY(parse(R"({"listen": "[::1]:4747"})").ok());
        QVERIFY(parse(R"({"listen": "localhost:0"})").ok());
        // An admin_token that expands to nothing is no token.
        QVERIFY(!parse(R"({"listen": "0.0.0.0:4747", "admin_token": "${UNSET_TOKEN}"})").ok());
    }

    void loopbackIsDecidedOnTheAddressNotTheText() {
        for (const char* host : {"127.0.0.1.nip.io", "127.evil.com", "127.0.0.1.", "localhost.evil.com", "0.0.0.0",
                                 "::", "::ffff:10.0.0.1", "128.0.0.1", "[::2]", "127.1", "", "localhos", "::1%lo"})
            QVERIFY2(!isLoopbackHost(host), host);
        for (const char* host : {"localhost", "LocalHost", "127.0.0.1", "127.0.0.5", "127.255.255.254", "::1", "[::1]",
                                 "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"})
            QVERIFY2(isLoopbackHost(host), host);
        // And so the admin_token rule: a name that merely starts with "127." needs a token.
        auto e = onlyError(parse(R"({"listen": "127.0.0.1.nip.io:4747"})"));
        QCOMPARE(e.path, std::string("listen"));
        QVERIFY(e.message.find("admin_token") != std::string::npos);
        QVERIFY(!parse(R"({"listen": "127.evil.com:4747"})").ok());
        QVERIFY(parse(R"({"listen": "127.0.0.5:4747"})").ok());
        QVERIFY(parse(R"({"listen": "[::ffff:127.0.0.1]:4747"})").ok());
    }

    void listenOverrideIsValidatedToo() {
        LoadOptions options;
        options.env = fakeEnv({{"HOME", "/h"}});
        options.listenOverride = "0.0.0.0:0";
        auto r = parseConfig(kMinimal, "f.json", options);
        QCOMPARE(r.errors.size(), size_t{1});
        QCOMPARE(r.errors[0].path, std::string("--listen"));
        options.listenOverride = "127.0.0.1:0";
        r = parseConfig(kMinimal, "f.json", options);
        QVERIFY(r.ok());
        QCOMPARE(r.config->listenPort, uint16_t{0});
    }

    void variablesExpandInAnyString() {
        // prices_file is read and validated by the loader, so it must exist.
        QTemporaryDir home;
        const std::string homePath = home.path().toStdString();
        std::ofstream(homePath + "/prices.json") << R"({"models": {}})";
        auto r = parse(R"({"providers": [{"id": "a", "kind": "openai", "base_url": "${BASE}/v1", "api_key": "pre-${KEY}-post"}],
                          "prices_file": "${HOME}/prices.json"})",
                       {{"HOME", homePath}, {"BASE", "http://gw:8080"}, {"KEY", "s3cret"}});
        QVERIFY2(r.ok(), formatErrors(r.errors).c_str());
        QCOMPARE(r.config->providers[0].baseUrl, std::string("http://gw:8080/v1"));
        QCOMPARE(r.config->providers[0].apiKey, std::string("pre-s3cret-post"));
        QCOMPARE(r.config->pricesFile, homePath + "/prices.json");
    }

    void errorsNeverEchoAnExpandedSecret() {
        auto r = parse(R"({"listen": "${SECRET}"})", {{"HOME", "/h"}, {"SECRET", "sk-live-123"}});
        QVERIFY(!r.ok());
        // The value is echoed (it was written as a listen address), but this is the expanded text only
        // because the user put a variable there; api_key values are never echoed in any message.
        auto k = parse(R"({"providers": [{"id": "a", "kind": "openai", "base_url": "http:\/\/x", "api_key": 5}]})");
        QVERIFY(!k.ok());
        QVERIFY(k.errors[0].message.find("must be a string") != std::string::npos);
    }

    void redisKeysExpandAndNeverEchoThePassword() {
        auto r = parse(R"({"redis": {"url": "redis:\/\/10.0.0.5:6380\/2", "prefix": "prod", "password": "${REDIS_PASSWORD}",
                                     "replica_id": "api-${N}"}})",
                       {{"HOME", "/h"}, {"REDIS_PASSWORD", "hunter2"}, {"N", "2"}});
        QVERIFY2(r.ok(), formatErrors(r.errors).c_str());
        QCOMPARE(r.config->redis.password, std::string("hunter2"));
        QCOMPARE(r.config->redis.passwordVariables, std::vector<std::string>{"REDIS_PASSWORD"});
        QCOMPARE(r.config->redis.replicaId, std::string("api-2"));
        QCOMPARE(r.config->redis.prefix, std::string("prod"));
        QVERIFY(r.config->redis.enabled());
        // A password inside a bad URL is not repeated in the message.
        auto bad = parse(R"({"redis": {"url": "redis:\/\/:hunter2@h:0\/0"}})");
        QVERIFY(!bad.ok());
        QVERIFY(formatErrors(bad.errors).find("hunter2") == std::string::npos);
        std::string error;
        auto url = parseRedisUrl("redis://:p%40ss@[::1]:7000/3", error);
        QVERIFY2(url.has_value(), error.c_str());
        QCOMPARE(url->host, std::string("::1"));
        QCOMPARE(url->port, 7000);
        QCOMPARE(url->db, 3);
        QCOMPARE(url->password, std::string("p@ss"));
        QCOMPARE(url->display(), std::string("[::1]:7000"));
        auto unix = parseRedisUrl("unix:///run/redis.sock?db=4", error);
        QVERIFY2(unix.has_value(), error.c_str());
        QVERIFY(unix->unixSocket);
        QCOMPARE(unix->host, std::string("/run/redis.sock"));
        QCOMPARE(unix->db, 4);
    }

    void missingFileIsAnError() {
        auto r = loadConfigFile("/nonexistent/fusebox.json");
        QCOMPARE(r.errors.size(), size_t{1});
        QVERIFY(r.errors[0].format().starts_with("/nonexistent/fusebox.json: cannot read"));
    }

    void defaultConfigIsValidAndDocumented() {
        auto r = parse(std::string(defaultConfigText()));
        QVERIFY2(r.ok(), formatErrors(r.errors).c_str());
        QCOMPARE(r.config->providers.size(), size_t{2});
        QVERIFY(r.config->findRoute("default") != nullptr);
        QVERIFY(r.config->adminToken.empty());
        // Written atomically to the XDG path on first start.
        QTemporaryDir dir;
        const std::string path = defaultConfigPath(fakeEnv({{"XDG_CONFIG_HOME", dir.path().toStdString()}}));
        QCOMPARE(path, dir.path().toStdString() + "/fusebox/config.json");
        std::string error;
        QVERIFY(writeDefaultConfig(path, error));
        auto loaded = loadConfigFile(path);
        QVERIFY2(loaded.ok(), formatErrors(loaded.errors).c_str());
        QCOMPARE(defaultConfigPath(fakeEnv({{"HOME", "/home/op"}})), std::string("/home/op/.config/fusebox/config.json"));
    }
};

QTEST_GUILESS_MAIN(ConfigTest)
#include "test_config.moc"
