// The pieces that stand between untrusted bytes and the rest of Fusebox: JSON read without exceptions and with a
// depth bound, text clipped on character boundaries, the key taken out of what is relayed, the SSE parser
// linear in its input, and the request memory budget.
#include "core/JsonMembers.h"
#include "core/Redaction.h"
#include "core/UntrustedJson.h"
#include "providers/SseParser.h"
#include "proxy/RequestMemoryBudget.h"

#include <QtTest>

#include <random>

using namespace fusebox;
using nlohmann::json;

class UntrustedInputTest : public QObject {
    Q_OBJECT

private slots:
    void depthIsBoundedBeforeParsing() {
        QVERIFY(!nestedDeeperThan("[[[1]]]", 3));
        QVERIFY(nestedDeeperThan("[[[[1]]]]", 3));
        // Brackets inside strings, escaped quotes included, are text.
        QVERIFY(!nestedDeeperThan("{\"a\":\"[[[[[[\\\"[[[[[[\"}", 2));
        QVERIFY(nestedDeeperThan("{\"a\":\"\\\\\",  \"b\":[[[[1]]]]}", 3));
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        const ParsedJson parsed = parseUntrusted(deep);
        QVERIFY(!parsed.ok());
        QVERIFY(parsed.error.find("deeper than 128") != std::string::npos);
        QVERIFY(parseUntrusted(std::string(128, '[') + std::string(128, ']')).ok());
    }

    void parsingNeverThrows() {
        for (const std::string text : {"", "{", "1e999", "-1e999", "[1e400]", "\"\xff\xfe\"", "nul", "{\"a\":}"})
            QVERIFY(!parseUntrusted(text).ok() || parseUntrusted(text).value.is_number());
    }

    // The members read without a document are what the full parse has, and a text is valid, or an object, for
    // both alike.
    void topLevelMembersMatchTheFullParse() {
        const std::vector<std::string> texts = {
            json{{"model", "m"}, {"stream", true}, {"messages", json::array({json{{"model", "inner"}}})}}.dump(),
            json{{"stream_options", json{{"include_usage", true}, {"x", json::array({1, 2.5, nullptr})}}}}.dump(),
            json{{"usage", json{{"prompt_tokens", 17}, {"details", json{{"cached", -3}}}}}, {"model", nullptr}}.dump(),
            "{\"model\":\"a\",\"model\":\"b\",\"stream\":1e400}",
            "{\"model\": [ {\"stream\": false} ], \"stream\" : \"yes\" }",
            "[{\"model\":\"m\"}]", "\"model\"", "5", "null", "{}", "",
            "{\"model\":\"m\"", "{\"model\":\"m\"} x", "{\"a\":}", "\"\xff\xfe\"",
            std::string(129, '[') + std::string(129, ']'),
            "{\"model\":" + std::string(127, '[') + std::string(127, ']') + "}",
            // What simdjson refuses and nlohmann takes (a byte-order mark, integers beyond 64 bits), and forms
            // both must read alike: escapes, surrogate pairs and lone ones, signed and unsigned, float forms.
            "\xef\xbb\xbf{\"model\":\"bom\"}",
            "{\"usage\":{\"n\":123456789012345678901234567890},\"model\":\"m\"}",
            "{\"usage\":{\"a\":-0,\"b\":18446744073709551615,\"c\":-9223372036854775808,\"d\":1E+2,\"e\":0.1e-400}}",
            "{\"model\":\"\\u00e9\\ud83d\\ude00\\n\\u0000x\"}", "{\"model\":\"\\ud800\"}", "{\"model\":\"\\udc00x\"}",
            "{\"model\":\"\x01\"}", "{\"stream\":tru}", "{\"model\":\"a\",}", " {\"stream\" :\n true } ",
        };
        for (const auto& text : texts) {
            const ParsedJson full = parseUntrusted(text);
            const JsonMembers members = readTopLevelMembers(text, {"model", "stream", "stream_options", "usage"});
            QCOMPARE(members.ok(), full.ok());
            QCOMPARE(members.error, full.error);
            QCOMPARE(members.object, full.ok() && full.value.is_object());
            if (!members.object) continue;
            json expected = json::object();
            for (const char* name : {"model", "stream", "stream_options", "usage"})
                if (auto it = full.value.find(name); it != full.value.end()) expected[name] = *it;
            QCOMPARE(QString::fromStdString(members.value.dump()), QString::fromStdString(expected.dump()));
        }
    }

    void readsReportTheFieldPath() {
        const json body = json::parse(R"({"stream":"yes","messages":[{"role":5}],"n":null,"max":4096.0})");
        JsonReader reader;
        QVERIFY(!reader.boolean(body, "stream"));
        QCOMPARE(reader.error(), std::string("'stream' must be true or false, not a string"));
        JsonReader second;
        QVERIFY(!second.string(body["messages"][0], "role", "messages[0]"));
        QCOMPARE(second.error(), std::string("'messages[0].role' must be a string, not a number"));
        JsonReader lenient;
        QVERIFY(!lenient.number(body, "n")); // null is absent, not wrong
        QCOMPARE(lenient.integer(body, "max").value_or(0), int64_t{4096});
        QVERIFY(!lenient.failed());
        QCOMPARE(stringOr(json(5), "x", "fallback"), std::string("fallback")); // not even an object
        QCOMPARE(integerField(json("text"), "x"), int64_t{0});
    }

    void clippingKeepsCharactersWhole() {
        const std::string text = "ab\xc3\xa9"; // 'é' is bytes 2..3
        QCOMPARE(clipUtf8(text, 3, ""), std::string("ab"));
        QCOMPARE(clipUtf8(text, 4, ""), text);
        QCOMPARE(clipUtf8("\xe2\x82\xac\xe2\x82\xac", 4, "..."), std::string("\xe2\x82\xac..."));
        // And what is clipped serializes.
        QVERIFY(!dumpJson(json(clipUtf8(std::string(299, 'a') + "\xc3\xa9", 300))).empty());
        QCOMPARE(dumpJson(json(std::string("a\xff"))), std::string("\"a\xef\xbf\xbd\""));
    }

    void theKeyIsRedactedEverywhereInAText() {
        const std::string key = "sk-abcdefgh12345678";
        std::string text = "x" + key + "y" + key;
        QVERIFY(redactInPlace(text, key));
        QCOMPARE(text, std::string("x[redacted]y[redacted]"));
        std::string clean = "nothing here";
        QVERIFY(!redactInPlace(clean, key));
        std::string shortKey = "the cat";
        QVERIFY(!redactInPlace(shortKey, "cat")); // too short to be a key: never blanked
    }

    // The search table built once (SecretRedactor, per stream) finds what a plain search finds: keys with repeated
    // letters, at either end, next to each other, cut off at the end, and keys longer than the table's 255 cap.
    void aReusedRedactorFindsWhatAPlainSearchFinds() {
        const auto plainRedaction = [](std::string text, const std::string& key) {
            for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + kRedactedMark.size()))
                text.replace(at, key.size(), kRedactedMark);
            return text;
        };
        std::mt19937 random(7);
        for (const std::string key : {std::string("sk-aaaaaaab"), std::string("abababababab"),
                                      std::string("sk-proj-0123456789abcdefXYZ"), "k" + std::string(300, 'x') + "y"}) {
            const SecretRedactor redactor(key);
            for (int round = 0; round < 2000; ++round) {
                std::string text;
                const int pieces = static_cast<int>(random() % 6);
                for (int p = 0; p < pieces; ++p) {
                    switch (random() % 4) {
                    case 0: text += key; break;
                    case 1: text += key.substr(0, random() % key.size()); break; // a prefix: not the key
                    case 2: text += key.substr(random() % key.size()); break;    // a suffix: not the key
                    default: text += std::string(random() % 20, "abxy-k"[random() % 6]); break;
                    }
                }
                std::string redacted = text;
                const bool found = redactor.redactInPlace(redacted);
                const std::string expected = plainRedaction(text, key);
                QCOMPARE(redacted, expected);
                QCOMPARE(found, expected != text);
            }
        }
        std::string text = "abc sk-abcdefgh";
        QVERIFY(!SecretRedactor().redactInPlace(text)); // none: redacts nothing
        QVERIFY(!SecretRedactor("short").redactInPlace(text));
    }

    void theSseParserIsLinearInItsInput() {
        // An 8 MB event trickled in 1 KB reads: each read once searched the whole pending event again.
        SseParser parser;
        const std::string event = "data: " + std::string(4 * 1024 * 1024, 'x') + "\n\n";
        int events = 0;
        for (std::size_t at = 0; at < event.size(); at += 1024)
            parser.feed(std::string_view(event).substr(at, 1024), [&](SseEvent&&) { ++events; });
        QCOMPARE(events, 1);
        QVERIFY2(parser.bytesSearched() < 2 * event.size(), std::to_string(parser.bytesSearched()).c_str());
    }

    void theSseParserFindsTerminatorsSplitAcrossReads() {
        for (const std::string terminator : {"\n\n", "\r\n\r\n", "\r\r", "\n\r\n"}) {
            // The last event is followed by one more line, so even a final "\r\r" is known to be complete.
            const std::string stream = "data: a" + terminator + "data: b" + terminator + ": more\n";
            for (std::size_t split = 1; split < stream.size(); ++split) {
                SseParser parser;
                std::vector<std::string> data;
                auto onEvent = [&](SseEvent&& e) { data.push_back(e.data); };
                parser.feed(std::string_view(stream).substr(0, split), onEvent);
                parser.feed(std::string_view(stream).substr(split), onEvent);
                QCOMPARE(data, (std::vector<std::string>{"a", "b"}));
            }
        }
    }

    void theMemoryBudgetRefusesPastItsLimit() {
        RequestMemoryBudget budget(100);
        auto first = budget.reserve(60);
        QVERIFY(first);
        QVERIFY(!budget.reserve(60));
        {
            auto second = budget.reserve(40);
            QVERIFY(second);
            QCOMPARE(budget.used(), int64_t{100});
        }
        QCOMPARE(budget.used(), int64_t{60});
        first.reset();
        QCOMPARE(budget.used(), int64_t{0});
        QVERIFY(budget.reserve(1000)); // alone, even a body larger than the budget is served
        // A parsed array of small numbers costs far more than its bytes, and the estimate says so.
        std::string array = "[";
        for (int i = 0; i < 1000; ++i) array += "1,";
        array += "1]";
        QVERIFY(scanJson(array).estimatedDomBytes() > int64_t(10 * array.size()));
    }
};

QTEST_GUILESS_MAIN(UntrustedInputTest)
#include "test_untrusted_input.moc"
