// Requests across APIs, as coding agents send them: tools, tool calls and their results, parallel calls, images,
// system prompts; what cannot cross is refused naming the field; a malformed request is named, never thrown.
#include "providers/ApiTranslation.h"

#include <QtTest>

using namespace fusebox;
using nlohmann::json;

namespace {

json translated(const json& body, ApiEndpoint from, ApiEndpoint to) {
    RequestTranslation out = translateRequest(body, from, to, "target-model");
    if (!out.body) qWarning("not translated: whyNot=%s invalid=%s", out.whyNot.c_str(), out.invalid.c_str());
    return out.body.value_or(json());
}

const char* kShellArgs = R"({"command":["cargo","test"]})";

// An agent's Chat Completions turn: a system prompt, an image, two parallel calls and their results.
json chatAgentRequest() {
    json body = json::parse(R"({
      "model": "m", "stream": true, "max_completion_tokens": 2000, "temperature": 0.2, "seed": 7,
      "parallel_tool_calls": false, "tool_choice": "required",
      "tools": [
        {"type": "function", "function": {"name": "read_file", "description": "Read a file",
          "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}, "strict": true}},
        {"type": "function", "function": {"name": "list_dir", "parameters": {}}}
      ],
      "messages": [
        {"role": "system", "content": "You are a coding agent."},
        {"role": "developer", "content": [{"type": "text", "text": "Be terse."}]},
        {"role": "user", "content": [
          {"type": "text", "text": "What is in this screenshot and in src?"},
          {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
          {"type": "image_url", "image_url": {"url": "https:\/\/example.com/a.png"}}]},
        {"role": "assistant", "content": "Looking.", "tool_calls": [
          {"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": "ARGS"}},
          {"id": "call_2", "type": "function", "function": {"name": "list_dir", "arguments": ""}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "fn main() {}"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "a.rs"}, {"type": "text", "text": "b.rs"}]},
        {"role": "user", "content": "Thanks. Now fix it."}
      ]})");
    body["messages"][3]["tool_calls"][0]["function"]["arguments"] = json{{"path", "src/a.rs"}}.dump();
    return body;
}

// An agent's Anthropic turn (Claude Code's shape): system blocks with cache_control, thinking, tool_use, results.
json messagesAgentRequest() {
    return json::parse(R"({
      "model": "m", "max_tokens": 1024, "stream": false, "top_k": 5,
      "system": [{"type": "text", "text": "You are Claude Code."}, {"type": "text", "text": "Work in /repo.", "cache_control": {"type": "ephemeral"}}],
      "thinking": {"type": "enabled", "budget_tokens": 2000},
      "tool_choice": {"type": "tool", "name": "Bash", "disable_parallel_tool_use": true},
      "tools": [{"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}},
                {"type": "custom", "name": "Read", "input_schema": {"type": "object"}}],
      "messages": [
        {"role": "user", "content": [
          {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
          {"type": "image", "source": {"type": "url", "url": "https:\/\/example.com/b.png"}},
          {"type": "text", "text": "List the files.", "cache_control": {"type": "ephemeral"}}]},
        {"role": "assistant", "content": [
          {"type": "thinking", "thinking": "The user wants ls.", "signature": "sig"},
          {"type": "text", "text": "Running ls."},
          {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
          {"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {}}]},
        {"role": "user", "content": [
          {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.rs\nb.rs"},
          {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true, "content": [{"type": "text", "text": "no path"}]},
          {"type": "text", "text": "Go on."}]}
      ]})");
}

// What Codex sends to /v1/responses.
json codexRequest() {
    json body = json::parse(R"({
      "model": "gpt-5-codex", "instructions": "You are Codex.", "stream": true, "store": false,
      "parallel_tool_calls": true, "tool_choice": "auto", "prompt_cache_key": "abc",
      "reasoning": {"effort": "medium", "summary": "auto"}, "include": ["reasoning.encrypted_content"],
      "tools": [{"type": "function", "name": "shell", "description": "Run a shell command", "strict": false,
                 "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}}}],
      "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Sandbox: workspace-write."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context/>"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Run the tests."},
                                                        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="}]},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Plan"}], "encrypted_content": "gAAA"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Running them."}]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_9", "name": "shell", "arguments": "ARGS"},
        {"type": "function_call_output", "call_id": "call_9", "output": "ok: 12 passed"},
        {"role": "user", "content": "Now commit."}
      ]})");
    body["input"][5]["arguments"] = kShellArgs;
    return body;
}

} // namespace

class TranslationRequestsTest : public QObject {
    Q_OBJECT

private slots:
    void chatToMessagesCarriesToolsImagesAndResults() {
        const json sent = translated(chatAgentRequest(), ApiEndpoint::ChatCompletions, ApiEndpoint::Messages);
        QCOMPARE(sent["model"], json("target-model"));
        QCOMPARE(sent["system"], json("You are a coding agent.\n\nBe terse."));
        QCOMPARE(sent["max_tokens"], json(2000));
        QCOMPARE(sent["stream"], json(true));
        QVERIFY(!sent.contains("seed"));
        QCOMPARE(sent["tools"][0], json::parse(R"({"name":"read_file","description":"Read a file",
            "input_schema":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}})"));
        QCOMPARE(sent["tools"][1]["input_schema"], json::parse(R"({"type":"object","properties":{}})"));
        QCOMPARE(sent["tool_choice"], json::parse(R"({"type":"any","disable_parallel_tool_use":true})"));
        const json& messages = sent["messages"];
        QCOMPARE(messages.size(), std::size_t{3});
        QCOMPARE(messages[0]["content"][1]["source"],
                 json::parse(R"({"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="})"));
        QCOMPARE(messages[0]["content"][2]["source"], json::parse(R"({"type":"url","url":"https:\/\/example.com/a.png"})"));
        QCOMPARE(messages[1]["role"], json("assistant"));
        QCOMPARE(messages[1]["content"], json::parse(R"([{"type":"text","text":"Looking."},
            {"type":"tool_use","id":"call_1","name":"read_file","input":{"path":"src/a.rs"}},
            {"type":"tool_use","id":"call_2","name":"list_dir","input":{}}])"));
        // Both results and the next words are one user turn, results first.
        QCOMPARE(messages[2]["content"], json::parse(R"([{"type":"tool_result","tool_use_id":"call_1","content":"fn main() {}"},
            {"type":"tool_result","tool_use_id":"call_2","content":"a.rs\nb.rs"},{"type":"text","text":"Thanks. Now fix it."}])"));
    }

    void messagesToChatCarriesToolsImagesAndResults() {
        const json sent = translated(messagesAgentRequest(), ApiEndpoint::Messages, ApiEndpoint::ChatCompletions);
        QCOMPARE(sent["tools"][0], json::parse(R"({"type":"function","function":{"name":"Bash","description":"Run a command",
            "parameters":{"type":"object","properties":{"command":{"type":"string"}}}}})"));
        QCOMPARE(sent["tool_choice"], json::parse(R"({"type":"function","function":{"name":"Bash"}})"));
        QCOMPARE(sent["parallel_tool_calls"], json(false));
        QVERIFY(!sent.contains("thinking") && !sent.contains("top_k"));
        const json& messages = sent["messages"];
        QCOMPARE(messages[0], json::parse(R"({"role":"system","content":"You are Claude Code.\nWork in /repo."})"));
        QCOMPARE(messages[1]["content"], json::parse(R"([
            {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
            {"type":"image_url","image_url":{"url":"https:\/\/example.com/b.png"}},{"type":"text","text":"List the files."}])"));
        // Thinking is Anthropic's own: dropped, never turned into text.
        json expected = json::parse(R"({"role":"assistant","content":"Running ls.","tool_calls":[
            {"id":"toolu_1","type":"function","function":{"name":"Bash","arguments":"ARGS"}},
            {"id":"toolu_2","type":"function","function":{"name":"Read","arguments":"{}"}}]})");
        expected["tool_calls"][0]["function"]["arguments"] = R"({"command":"ls"})";
        QCOMPARE(messages[2], expected);
        QCOMPARE(messages[3], json::parse(R"({"role":"tool","tool_call_id":"toolu_1","content":"a.rs\nb.rs"})"));
        QCOMPARE(messages[4], json::parse(R"({"role":"tool","tool_call_id":"toolu_2","content":"no path"})"));
        QCOMPARE(messages[5], json::parse(R"({"role":"user","content":"Go on."})"));
        QCOMPARE(messages.size(), std::size_t{6});
    }

    void anAssistantsRefusalInTheHistoryCrossesAsItsWords() {
        json body = {{"model", "m"}};
        body["messages"] = {{{"role", "user"}, {"content", "x"}},
                            {{"role", "assistant"}, {"content", {{{"type", "refusal"}, {"refusal", "No."}}}}},
                            {{"role", "assistant"}, {"content", nullptr}, {"refusal", "Still no."}},
                            {{"role", "user"}, {"content", "please"}}};
        const json sent = translated(body, ApiEndpoint::ChatCompletions, ApiEndpoint::Messages);
        QCOMPARE(sent["messages"][1]["content"],
                 json::parse(R"([{"type":"text","text":"No."},{"type":"text","text":"Still no."}])"));
    }

    void codexRequestToChat() {
        const json sent = translated(codexRequest(), ApiEndpoint::Responses, ApiEndpoint::ChatCompletions);
        QCOMPARE(sent["model"], json("target-model"));
        QCOMPARE(sent["stream"], json(true));
        QCOMPARE(sent["tools"][0]["function"]["name"], json("shell"));
        QCOMPARE(sent["tools"][0]["function"]["strict"], json(false));
        QCOMPARE(sent["tool_choice"], json("auto"));
        QCOMPARE(sent["parallel_tool_calls"], json(true));
        for (const char* dropped : {"store", "reasoning", "include", "prompt_cache_key", "instructions", "input"})
            QVERIFY2(!sent.contains(dropped), dropped);
        const json& messages = sent["messages"];
        QCOMPARE(messages[0], json::parse(R"({"role":"system","content":"You are Codex.\n\nSandbox: workspace-write."})"));
        QCOMPARE(messages[1]["role"], json("user"));
        QCOMPARE(messages[1]["content"][2]["image_url"]["url"], json("data:image/png;base64,iVBORw0KGgo="));
        // The reasoning item is the provider's own (encrypted): dropped.
        json expected = json::parse(R"({"role":"assistant","content":"Running them.","tool_calls":[
            {"id":"call_9","type":"function","function":{"name":"shell","arguments":"ARGS"}}]})");
        expected["tool_calls"][0]["function"]["arguments"] = kShellArgs; // byte for byte
        QCOMPARE(messages[2], expected);
        QCOMPARE(messages[3], json::parse(R"({"role":"tool","tool_call_id":"call_9","content":"ok: 12 passed"})"));
        QCOMPARE(messages[4], json::parse(R"({"role":"user","content":"Now commit."})"));
        QCOMPARE(messages.size(), std::size_t{5});
    }

    void codexRequestToMessages() {
        const json sent = translated(codexRequest(), ApiEndpoint::Responses, ApiEndpoint::Messages);
        QCOMPARE(sent["system"], json("You are Codex.\n\nSandbox: workspace-write."));
        QCOMPARE(sent["max_tokens"], json(4096));
        QCOMPARE(sent["tools"][0]["input_schema"]["properties"]["command"]["type"], json("array"));
        QCOMPARE(sent["tool_choice"], json::parse(R"({"type":"auto"})"));
        const json& messages = sent["messages"];
        QCOMPARE(messages.size(), std::size_t{3});
        QCOMPARE(messages[0]["content"][0], json::parse(R"({"type":"text","text":"<environment_context/>"})"));
        QCOMPARE(messages[0]["content"][2]["type"], json("image"));
        QCOMPARE(messages[1]["content"][1], json::parse(R"({"type":"tool_use","id":"call_9","name":"shell",
            "input":{"command":["cargo","test"]}})"));
        QCOMPARE(messages[2]["content"], json::parse(R"([{"type":"tool_result","tool_use_id":"call_9","content":"ok: 12 passed"},
            {"type":"text","text":"Now commit."}])"));
    }

    void parallelFunctionCallItemsAreOneTurnEachSide() {
        json body = {{"model", "m"}, {"parallel_tool_calls", false}, {"max_output_tokens", 300}};
        body["tool_choice"] = {{"type", "function"}, {"name", "read"}};
        body["tools"] = {{{"type", "function"}, {"name", "read"}, {"parameters", {{"type", "object"}}}}};
        body["input"] = {{{"role", "user"}, {"content", "read both"}},
                         {{"type", "function_call"}, {"call_id", "c1"}, {"name", "read"}, {"arguments", "{}"}},
                         {{"type", "function_call"}, {"call_id", "c2"}, {"name", "read"}, {"arguments", ""}},
                         {{"type", "function_call_output"}, {"call_id", "c1"}, {"output", "one"}},
                         {{"type", "function_call_output"}, {"call_id", "c2"},
                          {"output", {{{"type", "input_text"}, {"text", "two"}}}}}};
        const json sent = translated(body, ApiEndpoint::Responses, ApiEndpoint::Messages);
        QCOMPARE(sent["max_tokens"], json(300));
        QCOMPARE(sent["tool_choice"], json::parse(R"({"type":"tool","name":"read","disable_parallel_tool_use":true})"));
        QCOMPARE(sent["messages"].size(), std::size_t{3});
        QCOMPARE(sent["messages"][1]["content"], json::parse(R"([{"type":"tool_use","id":"c1","name":"read","input":{}},
            {"type":"tool_use","id":"c2","name":"read","input":{}}])"));
        QCOMPARE(sent["messages"][2]["content"], json::parse(R"([{"type":"tool_result","tool_use_id":"c1","content":"one"},
            {"type":"tool_result","tool_use_id":"c2","content":"two"}])"));
        const json chat = translated(body, ApiEndpoint::Responses, ApiEndpoint::ChatCompletions);
        QCOMPARE(chat["messages"][1]["tool_calls"].size(), std::size_t{2});
        QCOMPARE(chat["messages"][1]["tool_calls"][1]["function"]["arguments"], json("{}"));
        QCOMPARE(chat["messages"][2]["tool_call_id"], json("c1"));
        QCOMPARE(chat["messages"][3]["tool_call_id"], json("c2"));
        QCOMPARE(chat["parallel_tool_calls"], json(false));
        QCOMPARE(chat["tool_choice"], json::parse(R"({"type":"function","function":{"name":"read"}})"));
    }

    void whatCannotCrossIsRefusedNamingTheField_data() {
        QTest::addColumn<int>("from");
        QTest::addColumn<int>("to");
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("reason");
        const int chat = int(ApiEndpoint::ChatCompletions), messages = int(ApiEndpoint::Messages),
                  responses = int(ApiEndpoint::Responses);
        auto row = [](const char* name, int from, int to, const json& body, const char* reason) {
            QTest::newRow(name) << from << to << QString::fromStdString(body.dump()) << QString(reason);
        };
        auto with = [](json body, const json& more) {
            body.update(more);
            return body;
        };
        json r = {{"model", "m"}, {"input", "hi"}};
        row("previous_response_id", responses, chat, with(r, {{"previous_response_id", "resp_1"}}), "'previous_response_id'");
        row("conversation", responses, messages, with(r, {{"conversation", "conv_1"}}), "'conversation'");
        row("item_reference", responses, chat,
            {{"model", "m"}, {"input", {{{"type", "item_reference"}, {"id", "msg_1"}}}}}, "'input[0]' (an item_reference)");
        row("web_search", responses, messages,
            with(r, {{"tools", {{{"type", "web_search"}}}}}), "'tools[0]' of type 'web_search'");
        row("file_search", responses, chat,
            with(r, {{"tools", {{{"type", "file_search"}, {"vector_store_ids", {"vs"}}}}}}), "'tools[0]' of type 'file_search'");
        row("custom tool", responses, chat,
            with(r, {{"tools", {{{"type", "custom"}, {"name", "apply_patch"}}}}}), "'tools[0]' ('apply_patch', a custom freeform tool)");
        row("local_shell_call", responses, messages,
            {{"model", "m"}, {"input", {{{"type", "local_shell_call"}, {"call_id", "c"}}}}}, "'input[0]' of type 'local_shell_call'");
        row("input_file", responses, chat,
            {{"model", "m"}, {"input", {{{"role", "user"}, {"content", {{{"type", "input_file"}, {"file_id", "f"}}}}}}}},
            "'input[0].content[0]' of type 'input_file'");
        row("file_id image", responses, messages,
            {{"model", "m"}, {"input", {{{"role", "user"}, {"content", {{{"type", "input_image"}, {"file_id", "f"}}}}}}}},
            "'input[0].content[0].file_id'");
        row("anthropic server tool", messages, chat,
            {{"model", "m"}, {"max_tokens", 5}, {"messages", {{{"role", "user"}, {"content", "hi"}}}},
             {"tools", {{{"type", "web_search_20250305"}, {"name", "web_search"}}}}}, "'tools[0]' of type 'web_search_20250305'");
        row("document", messages, chat,
            {{"model", "m"}, {"max_tokens", 5}, {"messages", {{{"role", "user"}, {"content", {{{"type", "document"}}}}}}}},
            "'messages[0].content[0]' of type 'document'");
        json c = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
        row("n", chat, messages, with(c, {{"n", 3}}), "'n' (several choices)");
        row("audio", chat, messages, with(c, {{"audio", {{"voice", "x"}}}}), "'audio'");
        row("legacy functions", chat, messages, with(c, {{"functions", {{{"name", "f"}}}}}), "'functions'");
        row("structured output", chat, messages,
            with(c, {{"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x"}}}}}}), "structured output");
        row("arguments not an object", chat, messages,
            {{"model", "m"}, {"messages", {{{"role", "assistant"}, {"tool_calls", {{{"id", "c1"}, {"type", "function"},
              {"function", {{"name", "f"}, {"arguments", "[1]"}}}}}}}}}}, "tool call 'c1' are not a JSON object");
        row("image in tool result", messages, chat,
            {{"model", "m"}, {"max_tokens", 5}, {"messages", {{{"role", "user"}, {"content", {{{"type", "tool_result"},
              {"tool_use_id", "t"}, {"content", {{{"type", "image"}, {"source", {{"type", "url"}, {"url", "u"}}}}}}}}}}}}},
            "an image in a tool result");
    }
    void whatCannotCrossIsRefusedNamingTheField() {
        QFETCH(int, from);
        QFETCH(int, to);
        QFETCH(QString, body);
        QFETCH(QString, reason);
        const RequestTranslation out =
            translateRequest(json::parse(body.toStdString()), ApiEndpoint(from), ApiEndpoint(to), "target-model");
        QVERIFY(!out.body);
        QVERIFY2(out.invalid.empty(), out.invalid.c_str());
        QVERIFY2(out.whyNot.find(reason.toStdString()) != std::string::npos, out.whyNot.c_str());
    }

    void aMalformedRequestIsNamedNeverThrown() {
        auto invalid = [](const json& body, ApiEndpoint from, ApiEndpoint to) {
            return translateRequest(body, from, to, "m").invalid;
        };
        std::string why = invalid({{"messages", {{{"role", "user"}, {"content", 5}}}}}, ApiEndpoint::ChatCompletions,
                                  ApiEndpoint::Messages);
        QVERIFY2(why.find("messages[0].content") != std::string::npos, why.c_str());
        why = invalid({{"input", {{{"type", "function_call"}, {"call_id", 3}}}}}, ApiEndpoint::Responses,
                      ApiEndpoint::ChatCompletions);
        QVERIFY2(why.find("input[0].call_id") != std::string::npos, why.c_str());
        why = invalid({{"input", "x"}, {"tools", {{{"type", "function"}}}}}, ApiEndpoint::Responses, ApiEndpoint::Messages);
        QVERIFY2(why.find("tools[0].name") != std::string::npos, why.c_str());
        why = invalid({{"messages", {{{"role", "user"}, {"content", {{{"type", "image"}, {"source", {{"type", "base64"}, {"data", 1}}}}}}}}}},
                      ApiEndpoint::Messages, ApiEndpoint::ChatCompletions);
        QVERIFY2(why.find("messages[0].content[0].source.data") != std::string::npos, why.c_str());
        // Anything at all, through every pair: exactly one of body, whyNot, invalid.
        const std::vector<json> odd = {json(), json(5), json::array(), json::object(), json{{"messages", 5}},
                                       json{{"input", json::array({5, nullptr, json::object()})}},
                                       json{{"messages", {{{"role", "assistant"}, {"tool_calls", {5}}}}}},
                                       json{{"messages", {{{"role", "tool"}}}}}, json{{"tool_choice", 5}, {"messages", json::array()}},
                                       json{{"system", 5}, {"messages", json::array()}},
                                       json{{"input", {{{"type", "message"}, {"role", "user"}, {"content", {{{"type", "input_image"}}}}}}}}};
        for (const json& body : odd)
            for (ApiEndpoint from : {ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, ApiEndpoint::Responses,
                                     ApiEndpoint::Embeddings})
                for (ApiEndpoint to : {ApiEndpoint::ChatCompletions, ApiEndpoint::Messages}) {
                    const RequestTranslation out = translateRequest(body, from, to, "m");
                    QCOMPARE(int(out.body.has_value()) + int(!out.whyNot.empty()) + int(!out.invalid.empty()), 1);
                }
    }

    void endpointsAndTheirUpstreams() {
        ProviderConfig openai;
        openai.kind = ProviderKind::OpenAI;
        ProviderConfig chatOnly = openai;
        chatOnly.servesResponses = false;
        ProviderConfig anthropic;
        anthropic.kind = ProviderKind::Anthropic;
        QVERIFY(translatable(ApiEndpoint::Responses) && translatable(ApiEndpoint::ChatCompletions) &&
                translatable(ApiEndpoint::Messages));
        QVERIFY(!translatable(ApiEndpoint::Embeddings) && !translatable(ApiEndpoint::Completions) &&
                !translatable(ApiEndpoint::CountTokens));
        QCOMPARE(upstreamEndpoint(ApiEndpoint::Responses, openai), ApiEndpoint::Responses);
        QCOMPARE(upstreamEndpoint(ApiEndpoint::Responses, chatOnly), ApiEndpoint::ChatCompletions);
        QCOMPARE(upstreamEndpoint(ApiEndpoint::Responses, anthropic), ApiEndpoint::Messages);
        QCOMPARE(upstreamEndpoint(ApiEndpoint::ChatCompletions, anthropic), ApiEndpoint::Messages);
        QCOMPARE(upstreamEndpoint(ApiEndpoint::Messages, openai), ApiEndpoint::ChatCompletions);
        QCOMPARE(upstreamEndpoint(ApiEndpoint::ChatCompletions, openai), ApiEndpoint::ChatCompletions);
        QCOMPARE(upstreamEndpoint(ApiEndpoint::Messages, anthropic), ApiEndpoint::Messages);
        QCOMPARE(upstreamEndpoint(ApiEndpoint::Embeddings, anthropic), ApiEndpoint::Embeddings);
        QCOMPARE(upstreamEndpoint(ApiEndpoint::CountTokens, openai), ApiEndpoint::CountTokens);
    }
};

QTEST_GUILESS_MAIN(TranslationRequestsTest)
#include "test_translation_requests.moc"
