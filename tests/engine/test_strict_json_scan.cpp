// The quick JSON pass (simdjson) that reads every relayed stream event (core/StrictJsonScan.h): whatever it calls
// valid nlohmann's parser accepts too, with the same handler calls; what nlohmann refuses it never calls
// valid.
#include "core/StrictJsonScan.h"
#include "core/UntrustedJson.h"

#include <QtTest>

#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace fusebox;
using nlohmann::json;

namespace {

// Writes down every call, in one notation for both parsers.
struct Recorder final : JsonEventSink {
    std::vector<std::string> calls;
    std::optional<std::string> stopAtName; // a name whose call returns false

    bool add(std::string call) {
        calls.push_back(std::move(call));
        return true;
    }
    bool null() override { return add("null"); }
    bool boolean(bool value) override { return add(value ? "true" : "false"); }
    bool number() override { return add("number"); }
    bool text(bool nonEmpty) override { return add(nonEmpty ? "text" : "empty text"); }
    bool name(std::string_view name) override {
        add("name " + std::string(name));
        return !stopAtName || name != *stopAtName;
    }
    bool start_object(std::size_t) override { return add("{"); }
    bool start_array(std::size_t) override { return add("["); }
    bool end_object() override { return add("}"); }
    bool end_array() override { return add("]"); }
};

// nlohmann's SAX parser on the same sink (the fallback the readers use).
bool nlohmannAccepts(const std::string& text, std::vector<std::string>* calls = nullptr) {
    Recorder recorder;
    const bool valid = saxParseWithNlohmann(text, recorder);
    if (calls) *calls = recorder.calls;
    return valid;
}

// The property every text must have; returns what the quick pass said.
StrictScan checkAgainstNlohmann(const std::string& text) {
    Recorder quick;
    const StrictScan verdict = scanStrictJson(text, quick);
    std::vector<std::string> calls;
    const bool accepted = nlohmannAccepts(text, &calls);
    if (verdict == StrictScan::Valid) {
        if (!accepted) qWarning("quick pass accepted what nlohmann refuses: %s", text.c_str());
        if (!accepted || quick.calls != calls) return StrictScan::Stopped; // flagged as a mismatch by callers
    }
    return verdict;
}

} // namespace

class StrictJsonScanTest : public QObject {
    Q_OBJECT

  private slots:
    void readsOrdinaryChunksLikeNlohmann() {
        const std::vector<std::string> texts = {
            json{{"id", "chatcmpl-1"},
                 {"object", "chat.completion.chunk"},
                 {"created", 1700000000},
                 {"choices",
                  json::array(
                      {{{"index", 0}, {"delta", {{"content", "Hello"}}}, {"finish_reason", nullptr}}})},
                 {"usage", nullptr}}
                .dump(),
            json{{"choices", json::array()}, {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 3}}}}
                .dump(),
            "{}",
            "[]",
            "0",
            "-0",
            "-12.5",
            "3.14159",
            "true",
            "false",
            "null",
            "\"\"",
            " [ 1 , [ ] , { } ] ",
            "{\"a\":{\"b\":[true,false,null,\"x\",-1,0.5]}}",
            "\"tab\\tquote\\\"slash\\/back\\\\ \\b\\f\\n\\r\"",
            "\"\\u00e9\\u4F60 \\ud83d\\ude00\"", // escapes, a surrogate pair among them
            "{\"content\":\"caf\xc3\xa9 \xe4\xbd\xa0 \xf0\x9f\x98\x80\"}", // UTF-8 of 2, 3 and 4 bytes
            "{\"\":\"\",\"k\":\"\"}",
            std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']'),
        };
        for (const auto& text : texts) {
            QVERIFY2(nlohmannAccepts(text), text.c_str());
            QCOMPARE(checkAgainstNlohmann(text), StrictScan::Valid);
        }
    }

    void neverCallsInvalidTextValid() {
        const std::vector<std::string> texts = {
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "-",
            "+1",
            "1 2",
            "[1 2]",
            "tru",
            "nul",
            "nullx",
            "\"abc",
            "\"bad \\x escape\"",
            "\"\\u12\"",
            "\"\\uZZZZ\"",
            "\"\\udc00 lone low\"",
            "\"\\ud800 lone high\"",
            "\"\\ud800\\u0041\"",
            std::string("\"nul \0 inside\"", 14),
            "\"control \x01\"",
            "\"overlong \xc0\x80\"",
            "\"surrogate \xed\xa0\x80\"",
            "\"past max \xf4\x90\x80\x80\"",
            "\"lead \xf5\x80\x80\x80\"",
            "\"cut \xe4\xbd\"",
            "\"stray \x80\"",
            "[1e999]",
            "{\"a\":1}}",
            "[]]",
            "{\"a\":[}",
            "[{]",
            "\"\\",
            std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']'),
        };
        for (const auto& text : texts) {
            Recorder recorder;
            QVERIFY2(scanStrictJson(text, recorder) != StrictScan::Valid, text.c_str());
        }
    }

    // A byte that needs a look (a control byte, an escape, UTF-8) is seen wherever it stands in a string.
    void looksAtEveryByteOfLongStrings() {
        for (std::size_t at = 0; at < 24; ++at) {
            const auto with = [&](std::string_view inserted) {
                std::string body(24, 'a');
                body.replace(at, 1, inserted);
                return "{\"k\":\"" + body + "\"}";
            };
            for (const std::string& bad : {std::string("\x01"), std::string("\x1f"), std::string("\x80"),
                                          std::string("\xff"), std::string("\xc3"), std::string("\\x")}) {
                Recorder recorder;
                QVERIFY2(scanStrictJson(with(bad), recorder) != StrictScan::Valid, with(bad).c_str());
                QVERIFY(!nlohmannAccepts(with(bad)));
            }
            for (const std::string& good : {std::string("\\n"), std::string("\\\""), std::string("\xc3\xa9"),
                                           std::string("\\u00e9"), std::string(" "), std::string("~")}) {
                QCOMPARE(checkAgainstNlohmann(with(good)), StrictScan::Valid);
            }
            std::string cut = with("\""); // the string ends early: what follows is not JSON
            Recorder recorder;
            QVERIFY(scanStrictJson(cut, recorder) != StrictScan::Valid);
        }
    }

    // Exponents and escaped keys read as nlohmann reads them (the key unescaped); what simdjson refuses and
    // nlohmann accepts (a byte-order mark, an integer beyond 64 bits) it leaves to nlohmann: it is only unsure.
    void leavesTheRareValidOnesToNlohmann() {
        for (const std::string text : {"1e5", "[2E-3]", "{\"k\\u0065y\":1}"})
            QCOMPARE(checkAgainstNlohmann(text), StrictScan::Valid);
        for (const std::string text : {"\xef\xbb\xbf{}", "[123456789012345678901234567890]"}) {
            QVERIFY2(nlohmannAccepts(text), text.c_str());
            Recorder recorder;
            QCOMPARE(scanStrictJson(text, recorder), StrictScan::Unsure);
        }
    }

    void aHandlerStopsThePass() {
        Recorder recorder;
        recorder.stopAtName = "error";
        QCOMPARE(scanStrictJson(std::string("{\"a\":1,\"error\":{\"message\":\"x\"},\"b\":2}"), recorder),
                 StrictScan::Stopped);
        QCOMPARE(recorder.calls.back(), std::string("name error"));
    }

    // Chunks bent at random: whatever the quick pass calls valid, nlohmann accepts, with the same calls.
    void mutatedChunksAgreeWithNlohmann() {
        const std::vector<std::string> seeds = {
            "{\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \\\"there\\\" \\u00e9\"},"
            "\"finish_reason\":null}],\"usage\":null}",
            "{\"a\":[1,-2.5,true,false,null,{\"b\":\"caf\xc3\xa9\"}],\"c\":{}}",
        };
        const std::string alphabet =
            "{}[]\":,.-+0123456789eEtrufalsn\\u \t\r\nabcdefABCDEF\x01\x7f\x80\xbf\xc3\xe4\xed\xf0\xf4\xff";
        std::mt19937 random(20261130);
        int valid = 0;
        for (int round = 0; round < 40000; ++round) {
            std::string text = seeds[round % seeds.size()];
            const int edits = 1 + static_cast<int>(random() % 3);
            for (int e = 0; e < edits && !text.empty(); ++e) {
                const std::size_t at = random() % text.size();
                const char c = alphabet[random() % alphabet.size()];
                switch (random() % 3) {
                case 0:
                    text[at] = c;
                    break;
                case 1:
                    text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
                    break;
                default:
                    text.erase(at, 1);
                    break;
                }
            }
            const StrictScan verdict = checkAgainstNlohmann(text);
            QVERIFY2(verdict != StrictScan::Stopped,
                     text.c_str()); // Stopped: a mismatch (the recorder never stops)
            if (verdict == StrictScan::Valid) ++valid;
        }
        QVERIFY(valid > 1000); // the mutations leave plenty of valid texts to compare
    }
};

QTEST_APPLESS_MAIN(StrictJsonScanTest)
#include "test_strict_json_scan.moc"
