// Spend accounting: the price table (lookup, cost, validation of a prices file), the ledger (wasted spend,
// unpriced models, the daily budget with the manual clock, reports and the attempts CSV).
#include "config/ConfigLoader.h"
#include "core/Clock.h"
#include "spend/PriceTable.h"
#include "spend/SpendLedger.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace fusebox;
using namespace std::chrono_literals;

namespace {

const char* kPrices = R"({"models": {
  "m-exact": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
  "m-*": {"input_per_mtok": 10.0, "output_per_mtok": 20.0},
  "m-ex*": {"input_per_mtok": 100.0, "output_per_mtok": 200.0},
  "claude-x": {"input_per_mtok": 3.0, "output_per_mtok": 15.0, "cache_read_per_mtok": 0.3, "cache_write_per_mtok": 3.75},
  "gpt-x": {"input_per_mtok": 2.0, "output_per_mtok": 8.0, "cache_read_per_mtok": 0.5}
}})";

Usage usage(int64_t in, int64_t out, int64_t cacheRead = 0, int64_t cacheWrite = 0) {
    Usage u;
    u.inputTokens = in;
    u.outputTokens = out;
    u.cacheReadTokens = cacheRead;
    u.cacheWriteTokens = cacheWrite;
    u.reported = true;
    return u;
}

AttemptRecord attempt(Clock& clock, std::optional<double> cost, bool delivered, Outcome outcome = Outcome::Success,
                      std::size_t provider = 0) {
    AttemptRecord a;
    a.at = clock.wallNow();
    a.requestId = "req-1";
    a.route = "default";
    a.provider = provider == 0 ? "alpha" : "beta";
    a.providerIndex = provider;
    a.model = "m-exact";
    a.outcome = outcome;
    a.status = outcome == Outcome::ShortCircuited ? 0 : 200;
    a.duration = 2000ms;
    if (outcome != Outcome::ShortCircuited) a.usage = usage(1000, 100);
    a.costUsd = cost;
    a.delivered = delivered;
    return a;
}

} // namespace

class SpendTest : public QObject {
    Q_OBJECT
private slots:
    void exactNameWinsOverLongestPrefix() {
        PriceTable t;
        QVERIFY(!t.merge(kPrices, "p.json"));
        QCOMPARE(t.find("m-exact")->inputPerMtok, 1.0);
        QCOMPARE(t.find("m-exactly")->inputPerMtok, 100.0); // longest prefix
        QCOMPARE(t.find("m-other")->inputPerMtok, 10.0);
        QVERIFY(!t.find("unknown"));
        QVERIFY(!t.cost("unknown", ApiEndpoint::ChatCompletions, usage(10, 10))); // unpriced, never $0
    }

    void aPrefixAnswerIsNotRememberedAcrossTablesOrChanges() {
        // find() remembers, per thread, the last prefix answer of a table as it is (PriceTable::find).
        PriceTable t;
        QVERIFY(!t.merge(kPrices, "p.json"));
        QCOMPARE(t.find("m-other-2024")->inputPerMtok, 10.0);
        QCOMPARE(t.find("m-other-2024")->inputPerMtok, 10.0); // the remembered answer, the same
        QVERIFY(!t.merge(R"({"models": {"m-other-*": {"input_per_mtok": 7, "output_per_mtok": 7}}})", "more.json"));
        QCOMPARE(t.find("m-other-2024")->inputPerMtok, 7.0); // a change: answered anew
        PriceTable other;
        QVERIFY(!other.find("m-other-2024")); // another table: its own answer
        const PriceTable copy = t;
        QCOMPARE(copy.find("m-other-2024")->inputPerMtok, 7.0);
        QVERIFY(!t.merge(R"({"models": {"m-other-2024": {"input_per_mtok": 3, "output_per_mtok": 3}}})", "exact.json"));
        QCOMPARE(t.find("m-other-2024")->inputPerMtok, 3.0);
        QCOMPARE(copy.find("m-other-2024")->inputPerMtok, 7.0);
    }

    void costWithCacheTokens() {
        PriceTable t;
        QVERIFY(!t.merge(kPrices, "p.json"));
        // Anthropic: cache tokens are apart from input tokens.
        const double anthropic = *t.cost("claude-x", ApiEndpoint::Messages, usage(1000, 200, 4000, 100));
        QCOMPARE(anthropic, (1000 * 3.0 + 200 * 15.0 + 4000 * 0.3 + 100 * 3.75) / 1e6);
        // OpenAI: cached tokens are inside prompt_tokens.
        const double openai = *t.cost("gpt-x", ApiEndpoint::ChatCompletions, usage(1000, 200, 400));
        QCOMPARE(openai, (600 * 2.0 + 400 * 0.5 + 200 * 8.0) / 1e6);
        // No cache price: input price.
        QCOMPARE(*t.cost("m-exact", ApiEndpoint::Messages, usage(10, 0, 5, 5)), 20 * 1.0 / 1e6);
    }

    void builtInTableHasCurrentModels() {
        const PriceTable t = PriceTable::builtIn();
        for (const char* model : {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3", "text-embedding-3-small",
                                  "claude-sonnet-4-5-20250929", "claude-opus-4-1", "claude-haiku-4-5",
                                  "claude-3-5-haiku-20241022"})
            QVERIFY2(t.find(model).has_value(), model);
        QCOMPARE(t.find("gpt-4o-mini")->inputPerMtok, 0.15);
        QCOMPARE(t.find("gpt-4.1-mini-2025-04-14")->inputPerMtok, 0.4);
    }

    void brokenPricesNameLineAndKey() {
        PriceTable t;
        auto e = t.merge("{\"models\": {\n  \"a\": {\"input_per_mtok\": 1, \"output_per_mtok\": 1},\n"
                         "  \"b\": {\"input_per_mtok\": -1, \"output_per_mtok\": 1}}}",
                         "my.json");
        QVERIFY(e);
        QVERIFY2(e->find("my.json:3") != std::string::npos, e->c_str());
        QVERIFY2(e->find("models.\"b\".input_per_mtok") != std::string::npos, e->c_str());
        QVERIFY(!t.find("a")); // unchanged on error
        e = t.merge("{\"models\": {\n \"a\": {\"input_per_mtok\": 1,}}}", "bad.json");
        QVERIFY(e);
        QVERIFY2(e->find("bad.json:2") != std::string::npos, e->c_str());
        e = t.merge("{\"models\": {\"a\": {\"input_per_mtok\": 1, \"output_per_mtok\": 1, \"oops\": 1}}}", "k.json");
        QVERIFY(e && e->find("oops") != std::string::npos);
    }

    void brokenPricesFileIsAConfigError() {
        QTemporaryDir dir;
        const std::string file = dir.filePath("prices.json").toStdString();
        std::ofstream(file) << "{\"models\": {\n  \"gpt-4o\": {\"input_per_mtok\": \"cheap\", \"output_per_mtok\": 1}}}";
        LoadOptions options;
        options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
        auto r = parseConfig("{\"data_dir\": \"/tmp/x\", \"prices_file\": \"" + file + "\"}", "fusebox.json", options);
        QVERIFY(!r.ok());
        const std::string text = formatErrors(r.errors);
        QVERIFY2(text.find("prices_file") != std::string::npos, text.c_str());
        QVERIFY2(text.find(file + ":2") != std::string::npos, text.c_str());
        QVERIFY2(text.find("models.\"gpt-4o\".input_per_mtok") != std::string::npos, text.c_str());
        std::ofstream(file) << "{\"models\": {\"gpt-4o\": {\"input_per_mtok\": 1, \"output_per_mtok\": 2}}}";
        QVERIFY(parseConfig("{\"data_dir\": \"/tmp/x\", \"prices_file\": \"" + file + "\"}", "fusebox.json", options).ok());
    }

    void wastedAndUnpriced() {
        ManualClock clock;
        SpendLedger ledger(clock, {"alpha", "beta"}, {std::nullopt, std::nullopt});
        ledger.record(attempt(clock, 0.5, true));
        ledger.record(attempt(clock, 0.25, false, Outcome::BadResponse)); // a cut stream
        ledger.record(attempt(clock, 0.125, false, Outcome::Cancelled));  // the client left
        ledger.record(attempt(clock, std::nullopt, true));                // unpriced
        const ProviderSpend s = ledger.spend(0);
        QCOMPARE(s.spendTodayUsd, 0.875);
        QCOMPARE(s.wastedTodayUsd, 0.375);
        QCOMPARE(s.unpricedAttempts, 1u);
        const SpendReport r = ledger.report(SpendBucket::Minute, clock.wallNow() - 1h);
        QCOMPARE(r.buckets.size(), std::size_t{1});
        QCOMPARE(r.buckets[0].requests, 4u);
        QCOMPARE(r.buckets[0].usd, 0.875);
        QCOMPARE(r.buckets[0].wastedUsd, 0.375);
        QCOMPARE(r.buckets[0].unpriced, 1u);
        QCOMPARE(r.buckets[0].inputTokens, 4000u);
    }

    void savedEstimate() {
        ManualClock clock;
        SpendLedger ledger(clock, {"alpha", "beta"}, {std::nullopt, std::nullopt});
        ledger.record(attempt(clock, 0.2, false, Outcome::ServerError));
        ledger.record(attempt(clock, 0.4, false, Outcome::Timeout));
        for (int i = 0; i < 3; ++i) ledger.record(attempt(clock, std::nullopt, false, Outcome::ShortCircuited));
        const SpendReport r = ledger.report(SpendBucket::Hour, clock.wallNow() - 1h);
        QCOMPARE(r.saved.shortCircuited, 3u);
        QVERIFY(qFuzzyCompare(r.saved.estUsd, 3 * 0.3));
        QVERIFY(qFuzzyCompare(r.saved.estSeconds, 3 * 2.0));
        QCOMPARE(r.buckets[0].requests, 2u); // refusals are not requests
    }

    void budgetTripsAndResetsAtMidnightAndOnReset() {
        ManualClock clock(WallTime{std::chrono::seconds{1'767'225'600 + 23 * 3600}}); // 2026-01-01 23:00 UTC
        SpendLedger ledger(clock, {"alpha", "beta"}, {1.0, std::nullopt});
        ledger.record(attempt(clock, 0.6, true));
        QVERIFY(!ledger.checkBudget(0));
        ledger.record(attempt(clock, 0.4, true));
        auto refusal = ledger.checkBudget(0);
        QVERIFY(refusal);
        QCOMPARE(refusal->reason, std::string("daily budget $1.00 reached"));
        QCOMPARE(refusal->retryAfterS, 3600.0);
        QVERIFY(!ledger.checkBudget(1)); // no budget
        clock.advance(30min);
        QCOMPARE(ledger.checkBudget(0)->retryAfterS, 1800.0);
        clock.advance(30min); // 00:00 UTC
        QVERIFY(!ledger.checkBudget(0));
        QCOMPARE(ledger.spend(0).spendTodayUsd, 0.0);

        ledger.record(attempt(clock, 1.5, true));
        QVERIFY(ledger.checkBudget(0));
        ledger.resetBudget(0); // operator reset
        QVERIFY(!ledger.checkBudget(0));
        QCOMPARE(ledger.spend(0).spendTodayUsd, 1.5); // still shown as spent
        ledger.record(attempt(clock, 1.0, true));
        QVERIFY(ledger.checkBudget(0));
    }

    void attemptsCsvQuotesAndFilters() {
        ManualClock clock;
        SpendLedger ledger(clock, {"alpha", "beta"}, {std::nullopt, std::nullopt});
        AttemptRecord a = attempt(clock, 0.001, true);
        a.requestId = "id,with \"quotes\"";
        ledger.record(a);
        clock.advance(10s);
        ledger.record(attempt(clock, std::nullopt, false, Outcome::ShortCircuited));
        const std::string csv = ledger.attemptsCsv(clock.wallNow() - 20s, clock.wallNow());
        QVERIFY(csv.starts_with("time,request_id,route,provider,model,outcome,status,ttfb_ms,duration_ms,"
                                "input_tokens,output_tokens,usd,delivered\r\n"));
        QVERIFY2(csv.find("2026-01-01T00:00:00.000Z,\"id,with \"\"quotes\"\"\",default,alpha,m-exact,success,200,0,"
                          "2000,1000,100,0.00100000,true\r\n") != std::string::npos,
                 csv.c_str());
        QVERIFY(csv.find("short_circuited") == std::string::npos); // until is exclusive
        const std::string all = ledger.attemptsCsv(clock.wallNow() - 20s, clock.wallNow() + 1s);
        QVERIFY2(all.find(",short_circuited,0,0,2000,0,0,,false\r\n") != std::string::npos, all.c_str());
    }
};

QTEST_GUILESS_MAIN(SpendTest)
#include "test_spend.moc"
