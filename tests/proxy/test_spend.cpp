// Spend through the proxy against the sims (CONTRACT §2 prices, budgets): the exact cost of every path, streamed
// ones included, unpriced models, wasted spend on a cut stream and on a client that left, and a daily budget
// that refuses the provider until an operator reset.
#include "ProxyRig.h"
#include "SimRequests.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

// Sim usage with these options: input 100, output 5 (events), cache read 10, cache write 20 (Anthropic).
sim::Options spendSims() {
    sim::Options options = ProxyRig::fastSimOptions();
    options.inputTokens = 100;
    options.cacheReadTokens = 10;
    options.cacheCreationTokens = 20;
    return options;
}

const char* kPrices = R"({"models": {
  "gpt-sim": {"input_per_mtok": 1.0, "output_per_mtok": 2.0, "cache_read_per_mtok": 0.5},
  "claude-sim": {"input_per_mtok": 3.0, "output_per_mtok": 15.0, "cache_read_per_mtok": 0.3, "cache_write_per_mtok": 3.75},
  "emb-*": {"input_per_mtok": 0.1, "output_per_mtok": 0.0}
}})";

// OpenAI: the 10 cached tokens are inside the 100 prompt tokens.
constexpr double kOpenAiCost = (90 * 1.0 + 10 * 0.5 + 5 * 2.0) / 1e6;
// Anthropic: cache tokens apart from the 100 input tokens.
constexpr double kAnthropicCost = (100 * 3.0 + 10 * 0.3 + 20 * 3.75 + 5 * 15.0) / 1e6;

std::string config(const std::string& pricesFile, const std::string& dataDir) {
    return R"({
  "breaker": {"consecutive_failures": 0, "failure_rate": 0},
  "data_dir": ")" + dataDir + R"(",
  "prices_file": ")" + pricesFile + R"(",
  "providers": [
    {"id": "openai", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"},
    {"id": "claude", "kind": "anthropic", "base_url": "${SIM0_ROOT}", "api_key": "sim-key"},
    {"id": "cutter", "kind": "anthropic", "base_url": "${SIM1_ROOT}", "api_key": "sim-key"},
    {"id": "capped", "kind": "openai", "base_url": "${SIM1}", "api_key": "sim-key", "budget_usd_per_day": 0.0002}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "openai"}]},
    {"name": "claude", "targets": [{"provider": "claude", "model": "claude-sim"}]},
    {"name": "cut", "targets": [{"provider": "cutter", "model": "claude-sim"}]},
    {"name": "capped", "targets": [{"provider": "capped", "model": "gpt-sim"}]}
  ]
})";
}

bool near(double a, double b) { return std::fabs(a - b) < 1e-12; }

} // namespace

class ProxySpendTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir;
    std::unique_ptr<ProxyRig> rig;
    std::string dataDir;
    int runs = 0;

    ProviderSnapshot provider(const char* id) { return *rig->engine().snapshot().findProvider(id); }
    double spent(const char* id) { return provider(id).spendTodayUsd; }

private slots:
    void init() {
        QVERIFY(dir.isValid());
        const std::string prices = dir.filePath("prices.json").toStdString();
        std::ofstream(prices) << kPrices;
        // A journal of its own per test: spendReport and attemptsCsv read it back.
        dataDir = dir.filePath(QString("data%1").arg(++runs)).toStdString();
        rig = std::make_unique<ProxyRig>(config(prices, dataDir), 2, spendSims());
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void openAiChatCostIsExact() {
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi").dump());
        QCOMPARE(reply.status, 200);
        QTRY_VERIFY(near(spent("openai"), kOpenAiCost));
        QCOMPARE(provider("openai").wastedTodayUsd, 0.0);
    }

    void openAiStreamCostIsExact() {
        auto reply = rig->client().stream("/v1/chat/completions", chatRequest("hi", true).dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        // The usage chunk Fusebox asked for is not shown to a client that did not ask for it.
        for (const auto& e : reply.events) QVERIFY(e.data.find("\"prompt_tokens\"") == std::string::npos);
        QTRY_VERIFY(near(spent("openai"), kOpenAiCost));
        QCOMPARE(provider("openai").wastedTodayUsd, 0.0);
    }

    void anthropicMessagesCostIsExact() {
        auto reply = rig->client().post("/v1/messages", messagesRequest("hi", false, "claude").dump());
        QCOMPARE(reply.status, 200);
        QTRY_VERIFY(near(spent("claude"), kAnthropicCost));
    }

    void anthropicStreamCostIsExact() {
        auto reply = rig->client().stream("/v1/messages", messagesRequest("hi", true, "claude").dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QTRY_VERIFY(near(spent("claude"), kAnthropicCost));
        QCOMPARE(provider("claude").wastedTodayUsd, 0.0);
    }

    void embeddingsCostIsExact() {
        json body = {{"model", "emb-small"}, {"input", "hello"}};
        auto reply = rig->client().post("/v1/embeddings", body.dump());
        QCOMPARE(reply.status, 200);
        QTRY_VERIFY(near(spent("openai"), 100 * 0.1 / 1e6));
    }

    void unpricedModelCountsTokensNotDollars() {
        auto reply = rig->client().post("/v1/chat/completions", chatRequest("hi", false, "mystery-model").dump());
        QCOMPARE(reply.status, 200);
        QTRY_COMPARE(provider("openai").unpricedAttempts, uint64_t{1});
        QCOMPARE(spent("openai"), 0.0);
        QCOMPARE(provider("openai").figures.inputTokensTotal, uint64_t{100});
        const std::string csv = rig->engine().attemptsCsv(WallTime{}, std::chrono::system_clock::now() + std::chrono::hours(1));
        QVERIFY2(csv.find(",mystery-model,success,200,") != std::string::npos, csv.c_str());
        QVERIFY2(csv.find(",100,5,,true\r\n") != std::string::npos, csv.c_str()); // usd empty, never 0
    }

    void cutStreamIsWasted() {
        rig->sim(1).setFault(sim::Fault::cutStream(2));
        auto reply = rig->client().stream("/v1/messages", messagesRequest("hi", true, "cut").dump());
        QCOMPARE(reply.events.back().event, std::string("error"));
        // message_start reported input and cache tokens (and output 1): paid for, and wasted.
        const double paid = (100 * 3.0 + 10 * 0.3 + 20 * 3.75 + 1 * 15.0) / 1e6;
        QTRY_VERIFY(near(spent("cutter"), paid));
        QVERIFY(near(provider("cutter").wastedTodayUsd, paid));
    }

    void clientThatLeftIsWasted() {
        auto reply = rig->client().stream("/v1/messages", messagesRequest("hi", true, "cut").dump(), {},
                                          [](const fusebox::test::SseEvent& e) { return e.event != "content_block_delta"; });
        QVERIFY(reply.clientClosed);
        QTRY_VERIFY(provider("cutter").wastedTodayUsd > 0);
        QVERIFY(near(provider("cutter").wastedTodayUsd, spent("cutter")));
        const std::string csv = rig->engine().attemptsCsv(WallTime{}, std::chrono::system_clock::now() + std::chrono::hours(1));
        QVERIFY2(csv.find(",cutter,claude-sim,cancelled,") != std::string::npos, csv.c_str());
    }

    void budgetRefusesUntilOperatorReset() {
        auto client = rig->client();
        QCOMPARE(client.post("/v1/chat/completions", chatRequest("hi", false, "capped").dump()).status, 200);
        QTRY_VERIFY(near(spent("capped"), kOpenAiCost));
        QCOMPARE(client.post("/v1/chat/completions", chatRequest("hi", false, "capped").dump()).status, 200);
        QTRY_VERIFY(near(spent("capped"), 2 * kOpenAiCost)); // 0.00021 >= 0.0002
        const int before = rig->requestsAt(1, "/v1/chat/completions");
        auto refused = rig->client().post("/v1/chat/completions", chatRequest("hi", false, "capped").dump());
        QCOMPARE(refused.status, 503);
        QVERIFY2(refused.body.find("daily budget $0.0002 reached") != std::string::npos, refused.body.c_str());
        QVERIFY(std::stol(refused.header("retry-after")) > 0);
        QVERIFY(std::stol(refused.header("retry-after")) <= 86400);
        QCOMPARE(rig->requestsAt(1, "/v1/chat/completions"), before); // no network call

        QVERIFY(rig->engine().reset("capped", "budget raised").ok);
        QCOMPARE(rig->client().post("/v1/chat/completions", chatRequest("hi", false, "capped").dump()).status, 200);
        QTRY_VERIFY(near(spent("capped"), 3 * kOpenAiCost)); // still shown as spent today
        const SpendReport report = rig->engine().spendReport(SpendBucket::Day, WallTime{});
        QCOMPARE(report.saved.shortCircuited, uint64_t{1});
        QCOMPARE(report.buckets.size(), std::size_t{1});
        QCOMPARE(report.buckets[0].requests, uint64_t{3});
        QVERIFY(near(report.buckets[0].usd, 3 * kOpenAiCost));
        QVERIFY(QFile::exists(QString::fromStdString(dataDir + "/journal.db")));
    }

    void reportSurvivesARestart() {
        QCOMPARE(rig->client().post("/v1/chat/completions", chatRequest("hi").dump()).status, 200);
        QTRY_VERIFY(near(spent("openai"), kOpenAiCost));
        rig.reset(); // the engine stops; the journal commits what it queued
        const std::string prices = dir.filePath("prices.json").toStdString();
        rig = std::make_unique<ProxyRig>(config(prices, dataDir), 2, spendSims());
        QVERIFY2(rig->ok(), rig->error().c_str());
        QVERIFY(near(spent("openai"), kOpenAiCost)); // today's spend (and so a budget) survives the restart
        const SpendReport report = rig->engine().spendReport(SpendBucket::Hour, WallTime{});
        QCOMPARE(report.buckets.size(), std::size_t{1});
        QCOMPARE(report.buckets[0].provider, std::string("openai"));
        QVERIFY(near(report.buckets[0].usd, kOpenAiCost));
        QCOMPARE(report.buckets[0].inputTokens, uint64_t{100});
    }

    void noJournalWhenDisabled() {
        rig.reset();
        std::string text = config(dir.filePath("prices.json").toStdString(), dataDir + "-off");
        text.insert(1, "\"journal\": {\"enabled\": false},");
        rig = std::make_unique<ProxyRig>(text, 2, spendSims());
        QVERIFY2(rig->ok(), rig->error().c_str());
        QCOMPARE(rig->client().post("/v1/chat/completions", chatRequest("hi").dump()).status, 200);
        QTRY_VERIFY(near(spent("openai"), kOpenAiCost));
        QVERIFY(near(rig->engine().spendReport(SpendBucket::Minute, WallTime{}).buckets.at(0).usd, kOpenAiCost));
        QVERIFY(!QFile::exists(QString::fromStdString(dataDir + "-off/journal.db")));
    }
};

QTEST_GUILESS_MAIN(ProxySpendTest)
#include "test_spend.moc"
