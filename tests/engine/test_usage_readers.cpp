// A whole answer relayed as it came has its usage read from simdjson's document (Dialect::usageFromMember,
// core/SimdObjectView.h), never built in nlohmann's form; everything else reads it from nlohmann's DOM
// (usageFromBody). The two must agree on every shape a provider may send: nested details, repeated names, nulls,
// numbers that are not integers, negative and oversized counts, members of the wrong type.
#include "core/SimdJsonDom.h"
#include "core/SimdObjectView.h"
#include "providers/Dialect.h"

#include <QtTest>

#include <string>
#include <vector>

using namespace fusebox;
using nlohmann::json;

namespace {

struct Case {
    const char* name;
    ProviderKind kind;
    ApiEndpoint endpoint;
};

const std::vector<Case> kDialects = {
    {"openai chat", ProviderKind::OpenAI, ApiEndpoint::ChatCompletions},
    {"openai responses", ProviderKind::OpenAI, ApiEndpoint::Responses},
    {"anthropic messages", ProviderKind::Anthropic, ApiEndpoint::Messages},
};

// Usage objects (and things that are not) as providers, proxies and broken servers send them.
const std::vector<std::string> kUsages = {
    R"({"prompt_tokens":9,"completion_tokens":2,"total_tokens":11})",
    R"({"prompt_tokens":1200,"completion_tokens":300,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},)"
    R"("completion_tokens_details":{"reasoning_tokens":128,"accepted_prediction_tokens":0}})",
    R"({"input_tokens":50,"output_tokens":7,"input_tokens_details":{"cached_tokens":32},)"
    R"("output_tokens_details":{"reasoning_tokens":5},"total_tokens":57})",
    R"({"input_tokens":12,"output_tokens":3,"cache_read_input_tokens":100,"cache_creation_input_tokens":40})",
    R"({"prompt_tokens":5,"prompt_tokens":7,"input_tokens":1,"input_tokens":2})",
    R"({"prompt_tokens":null,"completion_tokens":3.5,"input_tokens":"12","output_tokens":true})",
    R"({"prompt_tokens":-4,"input_tokens":-1,"completion_tokens":9223372036854775807,"output_tokens":18446744073709551615})",
    R"({"prompt_tokens":2000000000000000,"cache_read_input_tokens":9223372036854775808})",
    R"({"prompt_tokens_details":null,"completion_tokens_details":[1,2],"input_tokens_details":"x",)"
    R"("output_tokens_details":{"reasoning_tokens":{"n":1}}})",
    R"({"prompt_tokens_details":{"cached_tokens":1},"prompt_tokens_details":{"cached_tokens":2}})",
    R"({"input_tokens":1e3,"output_tokens":0,"cache_creation_input_tokens":-0})",
    R"({})",
    R"([])",
    R"("lots")",
    R"(null)",
    R"(42)",
};

QString describe(const Usage& u) {
    return QString("in %1 out %2 cacheRead %3 cacheWrite %4 reasoning %5 reported %6")
        .arg(u.inputTokens)
        .arg(u.outputTokens)
        .arg(u.cacheReadTokens)
        .arg(u.cacheWriteTokens)
        .arg(u.reasoningTokens)
        .arg(u.reported);
}

} // namespace

class UsageReadersTest : public QObject {
    Q_OBJECT

private slots:
    void bothDocumentsReadTheSameUsage_data() {
        QTest::addColumn<int>("dialect");
        QTest::addColumn<QString>("body");
        for (std::size_t d = 0; d < kDialects.size(); ++d)
            for (std::size_t u = 0; u < kUsages.size(); ++u) {
                const std::string body = R"({"id":"x","model":"m","usage":)" + kUsages[u] + "}";
                QTest::addRow("%s #%zu", kDialects[d].name, u) << static_cast<int>(d) << QString::fromStdString(body);
            }
    }
    void bothDocumentsReadTheSameUsage() {
        QFETCH(int, dialect);
        QFETCH(QString, body);
        const Case& c = kDialects[static_cast<std::size_t>(dialect)];
        const Dialect& reader = dialectFor(c.kind);
        const std::string text = body.toStdString();

        const Usage fromNlohmann = reader.usageFromBody(json::parse(text), c.endpoint);
        Usage fromSimdjson;
        bool visited = false;
        const auto object = readTopLevelObjectMember(text, "usage", [&](const SimdObjectView& usage) {
            visited = true;
            fromSimdjson = reader.usageFromMember(usage, c.endpoint);
        });
        QVERIFY(object.has_value()); // simdjson takes every text here
        QVERIFY(*object);
        QCOMPARE(visited, json::parse(text)["usage"].is_object());
        QCOMPARE(describe(fromSimdjson), describe(fromNlohmann));
    }

    void aRepeatedUsageMemberReadsAsTheLastOne() {
        const std::string text = R"({"usage":{"prompt_tokens":1},"usage":{"prompt_tokens":2}})";
        Usage usage;
        readTopLevelObjectMember(text, "usage", [&](const SimdObjectView& member) {
            usage = dialectFor(ProviderKind::OpenAI).usageFromMember(member, ApiEndpoint::ChatCompletions);
        });
        QCOMPARE(usage.inputTokens, int64_t{2});
        QCOMPARE(usage.inputTokens, dialectFor(ProviderKind::OpenAI).usageFromBody(json::parse(text)).inputTokens);
    }

    void notAnObjectOrNotJsonIsSaidWithoutReading() {
        bool visited = false;
        const auto visit = [&](const SimdObjectView&) { visited = true; };
        QCOMPARE(readTopLevelObjectMember(R"([{"usage":{}}])", "usage", visit), std::optional<bool>(false));
        QCOMPARE(readTopLevelObjectMember(R"({"usage":{"prompt_tokens":1})", "usage", visit), std::nullopt);
        QCOMPARE(readTopLevelObjectMember(R"({"model":"m"})", "usage", visit), std::optional<bool>(true));
        QVERIFY(!visited);
    }
};

QTEST_APPLESS_MAIN(UsageReadersTest)
#include "test_usage_readers.moc"
