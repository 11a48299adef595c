// A provider's "api" (README "Config"): an openai-kind provider speaks the Responses API unless it says
// "api": "chat" (vLLM, Ollama, Groq, ...); "api" anywhere else, or any other value, is an error that names the
// key and its line.
#include "config/ConfigLoader.h"

#include <QtTest>

using namespace fusebox;

namespace {

ConfigResult parse(const std::string& text) {
    LoadOptions options;
    options.env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "HOME") return std::string("/home/op");
        return std::nullopt;
    };
    return parseConfig(text, "fusebox.json", options);
}

// One provider per line, so an error's line says which. URLs as "http:\/\/..." (moc reads raw strings badly).
std::string providers(const std::string& first, const std::string& second) {
    return "{\"providers\": [\n" + first + ",\n" + second +
           "\n], \"routes\": [{\"name\": \"default\", \"targets\": [{\"provider\": \"a\"}]}]}";
}

} // namespace

class ConfigApiTest : public QObject {
    Q_OBJECT
private slots:
    void responsesIsTheDefaultAndChatIsAChoice() {
        auto r = parse(providers(R"({"id": "a", "kind": "openai", "base_url": "http:\/\/a/v1"})",
                                 R"({"id": "b", "kind": "openai", "base_url": "http:\/\/b/v1", "api": "chat"})"));
        QVERIFY2(r.ok(), formatErrors(r.errors).c_str());
        QVERIFY(r.config->providers[0].servesResponses);
        QVERIFY(!r.config->providers[1].servesResponses);
        auto explicitly = parse(providers(R"({"id": "a", "kind": "openai", "base_url": "http:\/\/a/v1", "api": "responses"})",
                                          R"({"id": "c", "kind": "anthropic", "base_url": "http:\/\/c"})"));
        QVERIFY2(explicitly.ok(), formatErrors(explicitly.errors).c_str());
        QVERIFY(explicitly.config->providers[0].servesResponses);
    }

    void anUnknownValueNamesTheKeyAndLine() {
        auto r = parse(providers(R"({"id": "a", "kind": "openai", "base_url": "http:\/\/a/v1"})",
                                 R"({"id": "b", "kind": "openai", "base_url": "http:\/\/b/v1", "api": "completions"})"));
        QCOMPARE(r.errors.size(), std::size_t{1});
        QCOMPARE(r.errors[0].path, std::string("providers[1].api"));
        QCOMPARE(r.errors[0].line, 3);
        QVERIFY2(r.errors[0].message.find("\"responses\"") != std::string::npos &&
                     r.errors[0].message.find("\"chat\"") != std::string::npos &&
                     r.errors[0].message.find("completions") != std::string::npos,
                 r.errors[0].message.c_str());
        QVERIFY(r.errors[0].format().starts_with("fusebox.json:3:"));
    }

    void anAnthropicProviderHasNoApiToChoose() {
        auto r = parse(providers(R"({"id": "a", "kind": "openai", "base_url": "http:\/\/a/v1"})",
                                 R"({"id": "c", "kind": "anthropic", "base_url": "http:\/\/c", "api": "chat"})"));
        QCOMPARE(r.errors.size(), std::size_t{1});
        QCOMPARE(r.errors[0].path, std::string("providers[1].api"));
        QCOMPARE(r.errors[0].line, 3);
        QVERIFY2(r.errors[0].message.find("openai") != std::string::npos, r.errors[0].message.c_str());
    }

    void aValueOfTheWrongTypeIsAnError() {
        auto r = parse(providers(R"({"id": "a", "kind": "openai", "base_url": "http:\/\/a/v1", "api": 2})",
                                 R"({"id": "b", "kind": "openai", "base_url": "http:\/\/b/v1"})"));
        QCOMPARE(r.errors.size(), std::size_t{1});
        QCOMPARE(r.errors[0].path, std::string("providers[0].api"));
        QCOMPARE(r.errors[0].line, 2);
    }
};

QTEST_GUILESS_MAIN(ConfigApiTest)
#include "test_config_api.moc"
