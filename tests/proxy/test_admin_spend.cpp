// GET /admin/v1/spend and /admin/v1/attempts.csv (CONTRACT §4), and spend in /admin/v1/state, over real sockets
// with exact prices.
#include "ProxyRig.h"
#include "SimRequests.h"
#include "TestSupport.h"

#include <QtTest>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

// Sim usage for chatRequest("Hello there!"): ceil(12 / 4) = 3 input tokens, one output token per content event
// (5 with the rig's fast sims). At $1000 and $2000 per million: 3 × 0.001 + 5 × 0.002 = $0.013 per answer.
constexpr double kCostPerAnswer = 0.013;

std::string configWithPrices(const std::string& pricesFile) {
    return R"({"prices_file": ")" + pricesFile + R"(",
      "providers": [{"id": "alpha", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"}],
      "routes": [{"name": "default", "targets": [{"provider": "alpha", "model": "gpt-sim"}]}]})";
}

} // namespace

class AdminSpendTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir;
    std::unique_ptr<ProxyRig> rig;

private slots:
    void init() {
        const std::string prices = writeTempFile(
            dir, "prices.json", R"({"models": {"gpt-sim": {"input_per_mtok": 1000, "output_per_mtok": 2000}}})");
        rig = std::make_unique<ProxyRig>(configWithPrices(prices), 1);
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void spendByMinuteAndInState() {
        auto client = rig->client();
        for (int i = 0; i < 3; ++i) QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump()).status, 200);
        auto reply = client.get("/admin/v1/spend?bucket=minute");
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.hasHeader("x-request-id"));
        const json body = json::parse(reply.body);
        QCOMPARE(body["buckets"].size(), size_t{1});
        const json& bucket = body["buckets"][0];
        QCOMPARE(bucket["provider"], json("alpha"));
        QCOMPARE(bucket["requests"], json(3));
        QCOMPARE(bucket["input_tokens"], json(9));
        QCOMPARE(bucket["output_tokens"], json(15));
        QVERIFY(std::abs(bucket["usd"].get<double>() - 3 * kCostPerAnswer) < 1e-9);
        QCOMPARE(bucket["wasted_usd"], json(0.0));
        QVERIFY(body["saved"].contains("short_circuited") && body["saved"].contains("est_usd") &&
                body["saved"].contains("est_seconds"));

        const json state = json::parse(client.get("/admin/v1/state").body);
        QVERIFY(std::abs(state["providers"][0]["spend_usd"].get<double>() - 3 * kCostPerAnswer) < 1e-9);
    }

    void attemptsCsvHasOneRowPerAttempt() {
        auto client = rig->client();
        QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump(), {{"x-request-id", "csv-1"}}).status, 200);
        rig->engine().forceOpen("alpha", "test");
        QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump(), {{"x-request-id", "csv-2"}}).status, 503);
        auto reply = client.get("/admin/v1/attempts.csv?since=0");
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.header("content-type").starts_with("text/csv"));
        const QStringList lines = QString::fromStdString(reply.body).split("\r\n", Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines[0], QString("time,request_id,route,provider,model,outcome,status,ttfb_ms,duration_ms,"
                                   "input_tokens,output_tokens,usd,delivered"));
        QVERIFY2(lines[1].contains(",csv-1,default,alpha,gpt-sim,success,200,"), qPrintable(lines[1]));
        QVERIFY(lines[1].contains(",3,5,0.01300000,"));
        QVERIFY2(lines[2].contains(",csv-2,default,alpha,gpt-sim,short_circuited,"), qPrintable(lines[2]));
        // A window that ends before them holds none.
        auto empty = client.get("/admin/v1/attempts.csv?since=0&until=1");
        QCOMPARE(QString::fromStdString(empty.body).split("\r\n", Qt::SkipEmptyParts).size(), 1);
    }

    void badParametersAre400s() {
        auto client = rig->client();
        QCOMPARE(client.get("/admin/v1/spend?bucket=week").status, 400);
        QCOMPARE(client.get("/admin/v1/spend?since=yesterday").status, 400);
        QCOMPARE(client.get("/admin/v1/attempts.csv?until=-5").status, 400);
    }

    void timeParametersOutOfRangeAre400sNamingTheParameter() {
        // Each once accepted: nan and inf passed the "< 0" check, and 1e300 s overflowed the clock's nanoseconds.
        auto client = rig->client();
        for (const char* value : {"1e300", "nan", "NaN", "inf", "-inf", "infinity", "-1", "-0.5", "8589934593", "9e9",
                                  "0x10", "%205", "5%20", "+5", "", "1e", "%00"}) {
            for (const char* name : {"since", "until"}) {
                const std::string path = std::string("/admin/v1/attempts.csv?") + name + "=" + value;
                auto reply = client.get(path);
                QVERIFY2(reply.status == 400, qPrintable(QString::fromStdString(path + " => " + reply.body)));
                const json body = json::parse(reply.body, nullptr, false);
                QVERIFY2(body.contains("error") && body["error"]["message"].get<std::string>().starts_with(name),
                         reply.body.c_str());
            }
            auto spend = client.get(std::string("/admin/v1/spend?bucket=day&since=") + value);
            QVERIFY2(spend.status == 400, value);
        }
        // The bounds themselves, and fractions, are times.
        QCOMPARE(client.get("/admin/v1/attempts.csv?since=0&until=8589934592").status, 200);
        QCOMPARE(client.get("/admin/v1/attempts.csv?since=1767225600.25&until=1.7e9").status, 200);
        QCOMPARE(client.get("/admin/v1/spend?bucket=minute&since=8589934592").status, 200);
        QCOMPARE(client.post("/admin/v1/spend", "{}").status, 405);
    }
};

QTEST_GUILESS_MAIN(AdminSpendTest)
#include "test_admin_spend.moc"
