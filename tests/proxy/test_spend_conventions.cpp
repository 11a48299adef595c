// An attempt's usage is priced by the conventions of the API the provider was asked in, not the client's: OpenAI
// counts cached tokens inside the input tokens, Anthropic apart from them. A Messages client answered by an
// OpenAI-kind provider (through the translation) pays OpenAI's way, and a Responses client OpenAI's too.
#include "ProxyRig.h"
#include "SimRequests.h"

#include <QtTest>

#include <sstream>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

const char* kConfig = R"({
  "providers": [
    {"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"},
    {"id": "claude", "kind": "anthropic", "base_url": "${SIM0_ROOT}", "api_key": "sim-key"}
  ],
  "routes": [
    {"name": "default", "targets": [{"provider": "alpha", "model": "gpt-4o"}]},
    {"name": "anthropic", "targets": [{"provider": "claude", "model": "claude-sonnet-4-5"}]}
  ]
})";

// The usd column of every journaled attempt at `provider`, oldest first.
std::vector<double> costsAt(ProxyRig& rig, const std::string& provider) {
    const auto until = std::chrono::system_clock::now() + std::chrono::hours(1);
    std::istringstream csv(rig.engine().attemptsCsv(WallTime{}, until));
    std::vector<double> costs;
    for (std::string line; std::getline(csv, line);) {
        std::vector<std::string> columns;
        std::istringstream row(line);
        for (std::string column; std::getline(row, column, ',');) columns.push_back(column);
        if (columns.size() == 13 && columns[3] == provider && !columns[11].empty()) costs.push_back(std::stod(columns[11]));
    }
    return costs;
}

} // namespace

class SpendConventionsTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;

private slots:
    void init() {
        sim::Options options = ProxyRig::fastSimOptions();
        options.inputTokens = 1000;
        options.cacheReadTokens = 400;
        options.cacheCreationTokens = 0;
        rig = std::make_unique<ProxyRig>(kConfig, 1, options);
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void aMessagesClientAnsweredByOpenAiPaysOpenAisWay() {
        auto reply = rig->client().post("/v1/messages", messagesRequest("hi", false, "default").dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("x-fusebox-provider"), std::string("alpha"));
        std::vector<double> costs;
        QTRY_VERIFY_WITH_TIMEOUT(!(costs = costsAt(*rig, "alpha")).empty(), 5000);
        // gpt-4o: 600 uncached input tokens at $2.50, 400 cached at $1.25, 5 output at $10, per million. Priced as
        // Anthropic counts (1000 input plus 400 cache reads) it would be $0.00305.
        const double openAiWay = (600 * 2.5 + 400 * 1.25 + 5 * 10.0) / 1e6;
        QVERIFY2(std::abs(costs.back() - openAiWay) < 1e-8, std::to_string(costs.back()).c_str());
    }

    void aResponsesClientPaysOpenAisWayToo() {
        auto reply = rig->client().post("/v1/responses", json{{"model", "default"}, {"input", "hi"}}.dump());
        QCOMPARE(reply.status, 200);
        std::vector<double> costs;
        QTRY_VERIFY_WITH_TIMEOUT(!(costs = costsAt(*rig, "alpha")).empty(), 5000);
        QVERIFY(std::abs(costs.back() - (600 * 2.5 + 400 * 1.25 + 5 * 10.0) / 1e6) < 1e-8);
    }

    void aMessagesClientAnsweredByAnthropicPaysAnthropicsWay() {
        auto reply = rig->client().post("/v1/messages", messagesRequest("hi", false, "anthropic").dump());
        QCOMPARE(reply.status, 200);
        std::vector<double> costs;
        QTRY_VERIFY_WITH_TIMEOUT(!(costs = costsAt(*rig, "claude")).empty(), 5000);
        // claude-sonnet-4-5: 1000 input tokens at $3, and the 400 cache reads reported apart from them at $0.30,
        // 5 output at $15, per million.
        const double anthropicWay = (1000 * 3.0 + 400 * 0.3 + 5 * 15.0) / 1e6;
        QVERIFY2(std::abs(costs.back() - anthropicWay) < 1e-8, std::to_string(costs.back()).c_str());
    }
};

QTEST_GUILESS_MAIN(SpendConventionsTest)
#include "test_spend_conventions.moc"
