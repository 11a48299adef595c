// Whole answers across APIs: text, refusals, parallel tool calls, stop reasons and usage, from Chat Completions and
// Messages providers to Chat Completions, Messages and Responses clients; a malformed answer is named, never thrown.
#include "providers/ApiTranslation.h"

#include <QtTest>

using namespace fusebox;
using nlohmann::json;

namespace {

const std::string kArgs1 = R"({"path": "a.rs"})";
const std::string kArgs2 = R"({"cmd":["ls"]})";

json chatAnswer(const std::string& finish = "tool_calls") {
    json answer = json::parse(R"({"id":"chatcmpl-9","object":"chat.completion","created":1,"model":"gpt-x",
      "choices":[{"index":0,"message":{"role":"assistant","content":"Let me look.","refusal":null,
        "tool_calls":[{"id":"call_1","type":"function","function":{"name":"read","arguments":"A1"}},
                      {"id":"call_2","type":"function","function":{"name":"shell","arguments":"A2"}}]},
        "logprobs":null,"finish_reason":"FINISH"}],
      "usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,
               "prompt_tokens_details":{"cached_tokens":60},"completion_tokens_details":{"reasoning_tokens":4}}})");
    answer["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = kArgs1;
    answer["choices"][0]["message"]["tool_calls"][1]["function"]["arguments"] = kArgs2;
    answer["choices"][0]["finish_reason"] = finish;
    return answer;
}

json messagesAnswer() {
    return json::parse(R"({"id":"msg_7","type":"message","role":"assistant","model":"claude-x",
      "content":[{"type":"thinking","thinking":"hmm","signature":"s"},{"type":"text","text":"Let me look."},
                 {"type":"tool_use","id":"toolu_1","name":"read","input":{"path":"a.rs"}},
                 {"type":"tool_use","id":"toolu_2","name":"shell","input":{"cmd":["ls"]}}],
      "stop_reason":"tool_use","stop_sequence":null,
      "usage":{"input_tokens":30,"cache_read_input_tokens":60,"cache_creation_input_tokens":10,"output_tokens":20}})");
}

json translated(const json& answer, ApiEndpoint provider, ApiEndpoint client) {
    std::string error;
    auto out = translateAnswer(answer, provider, client, error);
    if (!out) qWarning("not translated: %s", error.c_str());
    return out.value_or(json());
}

} // namespace

class TranslationAnswersTest : public QObject {
    Q_OBJECT

private slots:
    void chatAnswerForAnAnthropicClient() {
        const json out = translated(chatAnswer(), ApiEndpoint::ChatCompletions, ApiEndpoint::Messages);
        QCOMPARE(out["type"], json("message"));
        QCOMPARE(out["id"], json("msg_chatcmpl-9"));
        QCOMPARE(out["content"], json::parse(R"([{"type":"text","text":"Let me look."},
            {"type":"tool_use","id":"call_1","name":"read","input":{"path":"a.rs"}},
            {"type":"tool_use","id":"call_2","name":"shell","input":{"cmd":["ls"]}}])"));
        QCOMPARE(out["stop_reason"], json("tool_use"));
        QCOMPARE(out["usage"], json::parse(R"({"input_tokens":40,"cache_read_input_tokens":60,
            "cache_creation_input_tokens":0,"output_tokens":20})"));
    }

    void chatAnswerForAResponsesClient() {
        const json out = translated(chatAnswer(), ApiEndpoint::ChatCompletions, ApiEndpoint::Responses);
        QCOMPARE(out["object"], json("response"));
        QCOMPARE(out["status"], json("completed"));
        QCOMPARE(out["model"], json("gpt-x"));
        const json& output = out["output"];
        QCOMPARE(output.size(), std::size_t{3});
        QCOMPARE(output[0]["type"], json("message"));
        QCOMPARE(output[0]["role"], json("assistant"));
        QCOMPARE(output[0]["content"][0]["type"], json("output_text"));
        QCOMPARE(output[0]["content"][0]["text"], json("Let me look."));
        QCOMPARE(output[1]["type"], json("function_call"));
        QCOMPARE(output[1]["call_id"], json("call_1"));
        QCOMPARE(output[1]["name"], json("read"));
        QCOMPARE(output[1]["arguments"], json(kArgs1)); // the model's bytes, not re-serialised
        QCOMPARE(output[2]["arguments"], json(kArgs2));
        QVERIFY(output[1]["id"] != output[2]["id"]);
        QCOMPARE(out["usage"], json::parse(R"({"input_tokens":100,"input_tokens_details":{"cached_tokens":60},
            "output_tokens":20,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":120})"));
    }

    void anthropicAnswerForAChatClient() {
        const json out = translated(messagesAnswer(), ApiEndpoint::Messages, ApiEndpoint::ChatCompletions);
        QCOMPARE(out["object"], json("chat.completion"));
        const json& message = out["choices"][0]["message"];
        QCOMPARE(message["content"], json("Let me look.")); // the thinking block is not shown as text
        QCOMPARE(message["tool_calls"].size(), std::size_t{2});
        QCOMPARE(message["tool_calls"][0]["id"], json("toolu_1"));
        QCOMPARE(message["tool_calls"][0]["type"], json("function"));
        QCOMPARE(json::parse(message["tool_calls"][1]["function"]["arguments"].get<std::string>()),
                 json::parse(kArgs2));
        QCOMPARE(out["choices"][0]["finish_reason"], json("tool_calls"));
        QCOMPARE(out["usage"]["prompt_tokens"], json(100)); // 30 + 60 read + 10 written
        QCOMPARE(out["usage"]["prompt_tokens_details"]["cached_tokens"], json(60));
        QCOMPARE(out["usage"]["total_tokens"], json(120));
    }

    void anthropicAnswerForAResponsesClient() {
        const json out = translated(messagesAnswer(), ApiEndpoint::Messages, ApiEndpoint::Responses);
        QCOMPARE(out["id"], json("resp_msg_7"));
        QCOMPARE(out["output"].size(), std::size_t{3});
        QCOMPARE(out["output"][2]["call_id"], json("toolu_2"));
        QCOMPARE(out["usage"]["input_tokens"], json(100));
        QCOMPARE(out["usage"]["input_tokens_details"]["cached_tokens"], json(60));
        QCOMPARE(out["usage"]["output_tokens"], json(20));
    }

    void stopReasonsAndRefusals() {
        json cut = chatAnswer("length");
        cut["choices"][0]["message"].erase("tool_calls");
        QCOMPARE(translated(cut, ApiEndpoint::ChatCompletions, ApiEndpoint::Messages)["stop_reason"], json("max_tokens"));
        json response = translated(cut, ApiEndpoint::ChatCompletions, ApiEndpoint::Responses);
        QCOMPARE(response["status"], json("incomplete"));
        QCOMPARE(response["incomplete_details"]["reason"], json("max_output_tokens"));

        json refused = chatAnswer("stop");
        refused["choices"][0]["message"] = {{"role", "assistant"}, {"content", nullptr}, {"refusal", "I cannot."}};
        const json anthropic = translated(refused, ApiEndpoint::ChatCompletions, ApiEndpoint::Messages);
        QCOMPARE(anthropic["stop_reason"], json("refusal"));
        QCOMPARE(anthropic["content"][0]["text"], json("I cannot."));
        response = translated(refused, ApiEndpoint::ChatCompletions, ApiEndpoint::Responses);
        QCOMPARE(response["output"][0]["content"][0], json::parse(R"({"type":"refusal","refusal":"I cannot."})"));

        json claude = messagesAnswer();
        claude["stop_reason"] = "stop_sequence";
        claude["stop_sequence"] = "END";
        claude["content"] = json::parse(R"([{"type":"text","text":"done"}])");
        QCOMPARE(translated(claude, ApiEndpoint::Messages, ApiEndpoint::ChatCompletions)["choices"][0]["finish_reason"],
                 json("stop"));
        claude["stop_reason"] = "refusal";
        QCOMPARE(translated(claude, ApiEndpoint::Messages, ApiEndpoint::ChatCompletions)["choices"][0]["finish_reason"],
                 json("content_filter"));
        claude["stop_reason"] = "max_tokens";
        QCOMPARE(translated(claude, ApiEndpoint::Messages, ApiEndpoint::Responses)["status"], json("incomplete"));
    }

    void aMalformedAnswerIsNamedNeverThrown() {
        std::string error;
        json bad = chatAnswer();
        bad["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = 5;
        QVERIFY(!translateAnswer(bad, ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, error));
        QVERIFY2(error.find("choices[0].message.tool_calls[0].function.arguments") != std::string::npos, error.c_str());
        error.clear();
        QVERIFY(!translateAnswer(json{{"content", "text"}}, ApiEndpoint::Messages, ApiEndpoint::Responses, error));
        QVERIFY2(error.find("'content'") != std::string::npos, error.c_str());
        // The model wrote arguments that are not an object: an Anthropic client cannot be given them as input.
        error.clear();
        bad = chatAnswer();
        bad["choices"][0]["message"]["tool_calls"][1]["function"]["arguments"] = "{\"cmd\": [";
        QVERIFY(!translateAnswer(bad, ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, error));
        QVERIFY2(error.find("tool call 'call_2' ('shell')") != std::string::npos, error.c_str());
        // ... but a Responses or Chat client gets them as the model wrote them.
        QVERIFY(translateAnswer(bad, ApiEndpoint::ChatCompletions, ApiEndpoint::Responses, error));

        const std::vector<json> odd = {json::object(), json{{"choices", 5}}, json{{"choices", {5}}},
                                       json{{"choices", {{{"message", {{"tool_calls", {5}}}}}}}},
                                       json{{"content", {5, nullptr}}}, json{{"content", json::array()}, {"usage", 5}},
                                       json{{"content", {{{"type", "tool_use"}, {"input", "x"}}}}}};
        for (const json& answer : odd)
            for (ApiEndpoint provider : {ApiEndpoint::ChatCompletions, ApiEndpoint::Messages})
                for (ApiEndpoint client : {ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, ApiEndpoint::Responses}) {
                    error.clear();
                    auto out = translateAnswer(answer, provider, client, error);
                    QVERIFY(out.has_value() != !error.empty());
                    if (out) (void)out->dump();
                }
    }
};

QTEST_GUILESS_MAIN(TranslationAnswersTest)
#include "test_translation_answers.moc"
