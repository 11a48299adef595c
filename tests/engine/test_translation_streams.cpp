// Streams across APIs: a provider's SSE bytes, split at awkward places (inside UTF-8 characters, inside JSON),
// parsed by SseParser, judged by the provider's dialect and translated event by event; the client's bytes parsed
// again as its own API's SSE. Text and tool-call arguments must join to the very bytes the provider sent.
#include "providers/ApiTranslation.h"
#include "providers/Dialect.h"
#include "providers/SseParser.h"

#include <QtTest>

#include <map>

using namespace fusebox;
using nlohmann::json;

namespace {

// "héllo — 世界 🎉": two-, three- and four-byte characters, so that some split falls inside each.
const std::string kText = "h\xC3\xA9llo \xE2\x80\x94 \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x8E\x89";
// Arguments as the model wrote them, with escapes and non-ASCII, in fragments that split strings and numbers.
const std::string kArgsA = R"({"path": "src/m\u00e9ta.rs", "line": 42})";
const std::string kArgsB = R"({"cmd": ["ls", "-la"], "note": ")" + std::string("\xE4\xB8\x96") + R"("})";

// Pieces of about `size` bytes, each whole characters (a JSON string holds only those): what a provider's events
// carry. The byte chunks fed to the parser below split characters instead.
std::vector<std::string> fragments(const std::string& text, std::size_t size) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < text.size();) {
        std::size_t end = std::min(text.size(), i + size);
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
        out.push_back(text.substr(i, end - i));
        i = end;
    }
    return out;
}

std::string data(const json& value) {
    return "data: " + value.dump() + "\n\n";
}

std::string named(const std::string& name, const json& value) {
    return "event: " + name + "\ndata: " + value.dump() + "\n\n";
}

json chatChunk(const json& delta, const json& finish = nullptr) {
    return {{"id", "chatcmpl-abc"}, {"object", "chat.completion.chunk"}, {"created", 1}, {"model", "gpt-x"},
            {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}};
}

// An OpenAI stream: text, then two parallel tool calls whose arguments arrive in fragments, then usage.
std::string chatProviderStream() {
    std::string out = data(chatChunk({{"role", "assistant"}, {"content", ""}}));
    for (const std::string& piece : fragments(kText, 4)) out += data(chatChunk({{"content", piece}}));
    out += data(chatChunk({{"tool_calls",
                            {{{"index", 0}, {"id", "call_A"}, {"type", "function"},
                              {"function", {{"name", "read_file"}, {"arguments", ""}}}}}}}));
    for (const std::string& piece : fragments(kArgsA, 5))
        out += data(chatChunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", piece}}}}}}}));
    out += data(chatChunk({{"tool_calls",
                            {{{"index", 1}, {"id", "call_B"}, {"type", "function"},
                              {"function", {{"name", "shell"}, {"arguments", ""}}}}}}}));
    for (const std::string& piece : fragments(kArgsB, 3))
        out += data(chatChunk({{"tool_calls", {{{"index", 1}, {"function", {{"arguments", piece}}}}}}}));
    out += data(chatChunk(json::object(), "tool_calls"));
    out += data({{"id", "chatcmpl-abc"}, {"object", "chat.completion.chunk"}, {"created", 1}, {"model", "gpt-x"},
                 {"choices", json::array()},
                 {"usage", {{"prompt_tokens", 120}, {"completion_tokens", 30}, {"total_tokens", 150},
                            {"prompt_tokens_details", {{"cached_tokens", 20}}},
                            {"completion_tokens_details", {{"reasoning_tokens", 7}}}}}});
    return out + "data: [DONE]\n\n";
}

// An Anthropic stream: thinking (dropped), text, a tool_use whose input arrives as input_json_delta fragments.
std::string messagesProviderStream() {
    std::string out = named("message_start",
                            {{"type", "message_start"},
                             {"message", {{"id", "msg_01"}, {"type", "message"}, {"role", "assistant"},
                                          {"model", "claude-x"}, {"content", json::array()},
                                          {"usage", {{"input_tokens", 25}, {"cache_read_input_tokens", 5},
                                                     {"cache_creation_input_tokens", 10}, {"output_tokens", 1}}}}}});
    out += named("content_block_start", {{"type", "content_block_start"}, {"index", 0},
                                         {"content_block", {{"type", "thinking"}, {"thinking", ""}}}});
    out += named("content_block_delta", {{"type", "content_block_delta"}, {"index", 0},
                                         {"delta", {{"type", "thinking_delta"}, {"thinking", "secret plan"}}}});
    out += named("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}});
    out += named("ping", {{"type", "ping"}});
    out += named("content_block_start", {{"type", "content_block_start"}, {"index", 1},
                                         {"content_block", {{"type", "text"}, {"text", ""}}}});
    for (const std::string& piece : fragments(kText, 5))
        out += named("content_block_delta", {{"type", "content_block_delta"}, {"index", 1},
                                             {"delta", {{"type", "text_delta"}, {"text", piece}}}});
    out += named("content_block_stop", {{"type", "content_block_stop"}, {"index", 1}});
    out += named("content_block_start",
                 {{"type", "content_block_start"}, {"index", 2},
                  {"content_block", {{"type", "tool_use"}, {"id", "toolu_A"}, {"name", "read_file"}, {"input", json::object()}}}});
    for (const std::string& piece : fragments(kArgsA, 6))
        out += named("content_block_delta", {{"type", "content_block_delta"}, {"index", 2},
                                             {"delta", {{"type", "input_json_delta"}, {"partial_json", piece}}}});
    out += named("content_block_stop", {{"type", "content_block_stop"}, {"index", 2}});
    out += named("message_delta", {{"type", "message_delta"},
                                   {"delta", {{"stop_reason", "tool_use"}, {"stop_sequence", nullptr}}},
                                   {"usage", {{"output_tokens", 40}}}});
    return out + named("message_stop", {{"type", "message_stop"}});
}

struct ClientEvent {
    std::string name;
    json data; // null for [DONE]
};

// The provider's bytes fed in chunks of `chunk` bytes (0: at once) through the whole path.
std::vector<ClientEvent> translateStream(const std::string& bytes, ApiEndpoint provider, ApiEndpoint client,
                                         bool askedUsage, std::size_t chunk, std::string* failure = nullptr) {
    StreamTranslator translator(provider, client, askedUsage);
    const Dialect& dialect = dialectFor(apiFamily(provider));
    Usage usage;
    SseParser in, out;
    std::vector<ClientEvent> events;
    bool stopped = false;
    auto onClientEvent = [&](SseEvent&& event) {
        ClientEvent e{event.event, event.data == "[DONE]" ? json() : json::parse(event.data)};
        events.push_back(std::move(e));
    };
    auto onProviderEvent = [&](SseEvent&& event) {
        if (stopped) return;
        const StreamEventInfo info = dialect.inspect(event, usage);
        auto translated = translator.translate(event, info, usage);
        if (!translated) {
            stopped = true;
            if (failure) *failure = translator.error();
            return;
        }
        out.feed(*translated, onClientEvent);
    };
    if (chunk == 0) chunk = bytes.size();
    for (std::size_t i = 0; i < bytes.size(); i += chunk) in.feed(std::string_view(bytes).substr(i, chunk), onProviderEvent);
    return events;
}

const std::vector<std::size_t> kChunkings = {0, 1, 2, 3, 7, 64};

} // namespace

class TranslationStreamsTest : public QObject {
    Q_OBJECT

private slots:
    void chatProviderToAnthropicClient() {
        for (std::size_t chunk : kChunkings) {
            const auto events = translateStream(chatProviderStream(), ApiEndpoint::ChatCompletions,
                                                ApiEndpoint::Messages, false, chunk);
            QVERIFY(events.size() > 6);
            QCOMPARE(events.front().name, std::string("message_start"));
            // An OpenAI stream tells the prompt's size only at its end: 0 here, the count in message_delta.
            QCOMPARE(events.front().data["message"]["usage"]["input_tokens"], json(0));
            std::string text;
            std::map<int, std::string> args;
            std::map<int, json> blocks;
            json finalDelta;
            for (const auto& e : events) {
                QCOMPARE(e.data["type"], json(e.name));
                if (e.name == "content_block_start") blocks[e.data["index"].get<int>()] = e.data["content_block"];
                if (e.name == "content_block_delta" && e.data["delta"]["type"] == "text_delta")
                    text += e.data["delta"]["text"].get<std::string>();
                if (e.name == "content_block_delta" && e.data["delta"]["type"] == "input_json_delta")
                    args[e.data["index"].get<int>()] += e.data["delta"]["partial_json"].get<std::string>();
                if (e.name == "message_delta") finalDelta = e.data;
            }
            QCOMPARE(text, kText);
            QCOMPARE(blocks.size(), std::size_t{3});
            QCOMPARE(blocks[0]["type"], json("text"));
            QCOMPARE(blocks[1], json::parse(R"({"type":"tool_use","id":"call_A","name":"read_file","input":{}})"));
            QCOMPARE(blocks[2]["id"], json("call_B"));
            QCOMPARE(args[1], kArgsA); // byte for byte, escapes and all
            QCOMPARE(args[2], kArgsB);
            QCOMPARE(finalDelta["delta"]["stop_reason"], json("tool_use"));
            QCOMPARE(finalDelta["usage"]["input_tokens"], json(100)); // 120 prompt tokens, 20 of them cached
            QCOMPARE(finalDelta["usage"]["cache_read_input_tokens"], json(20));
            QCOMPARE(finalDelta["usage"]["output_tokens"], json(30));
            QCOMPARE(events.back().name, std::string("message_stop"));
            QCOMPARE(events[events.size() - 3].name, std::string("content_block_stop"));
        }
    }

    void chatProviderToResponsesClient() {
        for (std::size_t chunk : kChunkings) {
            const auto events = translateStream(chatProviderStream(), ApiEndpoint::ChatCompletions,
                                                ApiEndpoint::Responses, false, chunk);
            QVERIFY(events.size() > 8);
            std::vector<std::string> types;
            std::string text;
            std::map<int, std::string> argDeltas;
            std::map<int, json> doneItems;
            for (std::size_t i = 0; i < events.size(); ++i) {
                const auto& e = events[i];
                QCOMPARE(e.data["type"], json(e.name));
                QCOMPARE(e.data["sequence_number"], json(i)); // numbered from 0, no gaps
                types.push_back(e.name);
                if (e.name == "response.output_text.delta") text += e.data["delta"].get<std::string>();
                if (e.name == "response.function_call_arguments.delta")
                    argDeltas[e.data["output_index"].get<int>()] += e.data["delta"].get<std::string>();
                if (e.name == "response.output_item.done") doneItems[e.data["output_index"].get<int>()] = e.data["item"];
            }
            const std::vector<std::string> opening = {"response.created", "response.in_progress",
                                                      "response.output_item.added", "response.content_part.added",
                                                      "response.output_text.delta"};
            QVERIFY(std::equal(opening.begin(), opening.end(), types.begin()));
            QCOMPARE(types.back(), std::string("response.completed"));
            QCOMPARE(text, kText);
            QCOMPARE(argDeltas[1], kArgsA);
            QCOMPARE(argDeltas[2], kArgsB);
            QCOMPARE(doneItems.size(), std::size_t{3});
            QCOMPARE(doneItems[0]["type"], json("message"));
            QCOMPARE(doneItems[0]["content"][0]["text"], json(kText));
            QCOMPARE(doneItems[1]["type"], json("function_call"));
            QCOMPARE(doneItems[1]["call_id"], json("call_A"));
            QCOMPARE(doneItems[1]["name"], json("read_file"));
            QCOMPARE(doneItems[1]["arguments"], json(kArgsA));
            QCOMPARE(doneItems[2]["arguments"], json(kArgsB));
            const json response = events.back().data["response"];
            QCOMPARE(response["object"], json("response"));
            QCOMPARE(response["status"], json("completed"));
            QCOMPARE(response["output"].size(), std::size_t{3});
            QCOMPARE(response["output"][2], doneItems[2]);
            QCOMPARE(response["usage"], json::parse(R"({"input_tokens":120,"input_tokens_details":{"cached_tokens":20},
                "output_tokens":30,"output_tokens_details":{"reasoning_tokens":7},"total_tokens":150})"));
            for (const char* required : {"response.output_text.done", "response.content_part.done",
                                         "response.function_call_arguments.done"})
                QVERIFY2(std::find(types.begin(), types.end(), required) != types.end(), required);
        }
    }

    void anthropicProviderToChatClient() {
        for (std::size_t chunk : kChunkings) {
            const auto events = translateStream(messagesProviderStream(), ApiEndpoint::Messages,
                                                ApiEndpoint::ChatCompletions, true, chunk);
            QVERIFY(events.size() > 4);
            QVERIFY(events.back().data.is_null()); // [DONE]
            std::string text, args;
            std::string finish;
            json usage, firstCall;
            for (std::size_t i = 0; i + 1 < events.size(); ++i) {
                const json& chunkJson = events[i].data;
                QCOMPARE(chunkJson["object"], json("chat.completion.chunk"));
                QCOMPARE(events[i].name, std::string());
                if (chunkJson.contains("usage")) usage = chunkJson["usage"];
                if (chunkJson["choices"].empty()) continue;
                const json& delta = chunkJson["choices"][0]["delta"];
                QVERIFY2(!delta.contains("reasoning_content"), chunkJson.dump().c_str()); // thinking never shows
                if (delta.contains("content")) text += delta["content"].get<std::string>();
                if (delta.contains("tool_calls")) {
                    const json& call = delta["tool_calls"][0];
                    QCOMPARE(call["index"], json(0));
                    if (call.contains("id")) firstCall = call;
                    args += call["function"]["arguments"].get<std::string>();
                }
                if (chunkJson["choices"][0]["finish_reason"].is_string()) finish = chunkJson["choices"][0]["finish_reason"];
            }
            QCOMPARE(text, kText);
            QCOMPARE(firstCall["id"], json("toolu_A"));
            QCOMPARE(firstCall["type"], json("function"));
            QCOMPARE(firstCall["function"]["name"], json("read_file"));
            QCOMPARE(args, kArgsA);
            QCOMPARE(finish, std::string("tool_calls"));
            QCOMPARE(usage["prompt_tokens"], json(40)); // 25 + 5 cache reads + 10 cache writes
            QCOMPARE(usage["prompt_tokens_details"]["cached_tokens"], json(5));
            QCOMPARE(usage["completion_tokens"], json(40));
            QCOMPARE(usage["total_tokens"], json(80));
        }
        // Not asked for: no usage chunk.
        for (const auto& e : translateStream(messagesProviderStream(), ApiEndpoint::Messages, ApiEndpoint::ChatCompletions,
                                             false, 0))
            QVERIFY(e.data.is_null() || !e.data.contains("usage"));
    }

    void anthropicProviderToResponsesClient() {
        for (std::size_t chunk : kChunkings) {
            const auto events = translateStream(messagesProviderStream(), ApiEndpoint::Messages,
                                                ApiEndpoint::Responses, false, chunk);
            std::vector<std::string> types;
            std::string args;
            for (const auto& e : events) {
                types.push_back(e.name);
                if (e.name == "response.function_call_arguments.delta") args += e.data["delta"].get<std::string>();
            }
            // The call's item ends when its block does, before the response does.
            const auto callDone = std::find(types.begin(), types.end(), "response.function_call_arguments.done");
            QVERIFY(callDone != types.end());
            QCOMPARE(*(callDone + 1), std::string("response.output_item.done"));
            QCOMPARE(args, kArgsA);
            const json response = events.back().data["response"];
            QCOMPARE(events.back().name, std::string("response.completed"));
            QCOMPARE(response["id"], json("resp_msg_01"));
            QCOMPARE(response["model"], json("claude-x"));
            QCOMPARE(response["output"][0]["content"][0]["text"], json(kText));
            QCOMPARE(response["output"][1]["call_id"], json("toolu_A"));
            QCOMPARE(response["usage"]["input_tokens"], json(40));
            QCOMPARE(response["usage"]["input_tokens_details"]["cached_tokens"], json(5));
            QCOMPARE(response["usage"]["output_tokens"], json(40));
        }
    }

    void callsThatShareAnIndexAreTwoCalls() {
        // Some OpenAI-compatible servers send each parallel call whole, all at index 0, told apart by their ids.
        std::string bytes;
        for (const auto& [id, args] : {std::pair{"call_x", kArgsA}, std::pair{"call_y", kArgsB}})
            bytes += data(chatChunk({{"tool_calls", {{{"index", 0}, {"id", id}, {"type", "function"},
                                                       {"function", {{"name", "f"}, {"arguments", args}}}}}}}));
        bytes += data(chatChunk(json::object(), "tool_calls")) + "data: [DONE]\n\n";
        std::map<std::string, std::string> argsById;
        std::map<int, std::string> idByBlock;
        for (const auto& e : translateStream(bytes, ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, false, 5)) {
            if (e.name == "content_block_start") idByBlock[e.data["index"].get<int>()] = e.data["content_block"]["id"];
            if (e.name == "content_block_delta")
                argsById[idByBlock[e.data["index"].get<int>()]] += e.data["delta"]["partial_json"].get<std::string>();
        }
        QCOMPARE(idByBlock.size(), std::size_t{2});
        QCOMPARE(argsById["call_x"], kArgsA);
        QCOMPARE(argsById["call_y"], kArgsB);
        const auto responses = translateStream(bytes, ApiEndpoint::ChatCompletions, ApiEndpoint::Responses, false, 0);
        const json output = responses.back().data["response"]["output"];
        QCOMPARE(output.size(), std::size_t{2});
        QCOMPARE(output[0]["call_id"], json("call_x"));
        QCOMPARE(output[0]["arguments"], json(kArgsA));
        QCOMPARE(output[1]["arguments"], json(kArgsB));
    }

    void stopReasonsCross() {
        // Cut at max tokens: Anthropic's max_tokens, a Responses client's response.incomplete.
        std::string bytes = data(chatChunk({{"content", "abc"}})) + data(chatChunk(json::object(), "length")) +
                            "data: [DONE]\n\n";
        auto anthropic = translateStream(bytes, ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, false, 0);
        QCOMPARE(anthropic[anthropic.size() - 2].data["delta"]["stop_reason"], json("max_tokens"));
        auto responses = translateStream(bytes, ApiEndpoint::ChatCompletions, ApiEndpoint::Responses, false, 0);
        QCOMPARE(responses.back().name, std::string("response.incomplete"));
        QCOMPARE(responses.back().data["response"]["incomplete_details"]["reason"], json("max_output_tokens"));
        // A refusal: its own delta, and Anthropic's "refusal" stop reason.
        bytes = data(chatChunk({{"refusal", "I can't help with that."}})) + data(chatChunk(json::object(), "stop")) +
                "data: [DONE]\n\n";
        anthropic = translateStream(bytes, ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, false, 0);
        QCOMPARE(anthropic[anthropic.size() - 2].data["delta"]["stop_reason"], json("refusal"));
        responses = translateStream(bytes, ApiEndpoint::ChatCompletions, ApiEndpoint::Responses, false, 0);
        bool sawRefusal = false;
        for (const auto& e : responses) sawRefusal = sawRefusal || e.name == "response.refusal.delta";
        QVERIFY(sawRefusal);
        QCOMPARE(responses.back().data["response"]["output"][0]["content"][0]["type"], json("refusal"));
    }

    void inBandErrorsTakeTheClientsShape() {
        const std::string error = named("error", {{"type", "error"},
                                                  {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}});
        const std::string bytes = named("message_start", {{"type", "message_start"},
                                                          {"message", {{"id", "msg_1"}, {"model", "m"}}}}) + error;
        auto responses = translateStream(bytes, ApiEndpoint::Messages, ApiEndpoint::Responses, false, 0);
        QCOMPARE(responses.back().name, std::string("response.failed"));
        QCOMPARE(responses.back().data["response"]["status"], json("failed"));
        QCOMPARE(responses.back().data["response"]["error"]["message"], json("Overloaded"));
        QCOMPARE(responses.back().data["sequence_number"], json(responses.size() - 1));
        auto chat = translateStream(bytes, ApiEndpoint::Messages, ApiEndpoint::ChatCompletions, false, 0);
        QCOMPARE(chat.back().data["error"]["message"], json("Overloaded"));
        const std::string rateLimited = data({{"error", {{"message", "slow down"}, {"type", "rate_limit_exceeded"}}}});
        auto anthropic = translateStream(rateLimited, ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, false, 0);
        QCOMPARE(anthropic.back().name, std::string("error"));
        QCOMPARE(anthropic.back().data["error"]["type"], json("rate_limit_error"));
    }

    void malformedProviderFieldsAreNamedNotThrown() {
        std::string failure;
        auto events = translateStream(data(chatChunk({{"content", 5}})), ApiEndpoint::ChatCompletions,
                                      ApiEndpoint::Messages, false, 0, &failure);
        QVERIFY2(failure.find("choices[0].delta.content") != std::string::npos, failure.c_str());
        failure.clear();
        events = translateStream(data(chatChunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", 1}}}}}}})),
                                 ApiEndpoint::ChatCompletions, ApiEndpoint::Responses, false, 0, &failure);
        QVERIFY2(failure.find("choices[0].delta.tool_calls[0].function.arguments") != std::string::npos, failure.c_str());
        failure.clear();
        const std::string bad = named("content_block_delta", {{"type", "content_block_delta"}, {"index", 0},
                                                              {"delta", {{"type", "input_json_delta"}, {"partial_json", json::array()}}}});
        events = translateStream(bad, ApiEndpoint::Messages, ApiEndpoint::ChatCompletions, false, 0, &failure);
        QVERIFY2(failure.find("delta.partial_json") != std::string::npos, failure.c_str());
        // Shapes of every kind, through every pair: an answer or an error, never an exception.
        const std::vector<std::string> odd = {
            data(json::array()), data({{"choices", 5}}), data({{"choices", {5, nullptr}}}),
            data({{"choices", {{{"delta", {{"tool_calls", {{{"index", "x"}}}}}}}}}}),
            named("content_block_start", {{"type", "content_block_start"}, {"content_block", 3}}),
            named("message_start", {{"type", "message_start"}, {"message", "x"}}),
            named("message_delta", {{"type", "message_delta"}, {"delta", {{"stop_reason", 7}}}}),
            named("content_block_delta", {{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "input_json_delta"}}}}),
            "data: {\"choices\":[{\"delta\":{\"content\":\"\\ud800\"}}]}\n\n"};
        for (ApiEndpoint provider : {ApiEndpoint::ChatCompletions, ApiEndpoint::Messages})
            for (ApiEndpoint client : {ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, ApiEndpoint::Responses})
                for (const std::string& bytes : odd) (void)translateStream(bytes, provider, client, true, 0);
    }
};

QTEST_GUILESS_MAIN(TranslationStreamsTest)
#include "test_translation_streams.moc"
