// The sim provider's Responses API, legacy completions and count_tokens over real sockets: shapes, usage numbers,
// the numbered event stream and its faults (SimOpenAiExtras.h).
#include "SimHttpClient.h"
#include "SimRequests.h"
#include "sim/SimProvider.h"
#include "sim/SimResponses.h"

#include <QtTest>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

// 16 bytes of instructions and 8 of input text: ceil(24 / 4) = 6 input tokens.
json responsesRequest(bool stream) {
    return {{"model", "gpt-5"},
            {"instructions", "Be very helpful."},
            {"input", {{{"role", "user"}, {"content", {{{"type", "input_text"}, {"text", "abcdefgh"}}}}}}},
            {"stream", stream}};
}

} // namespace

class TestSimOpenAiExtras : public QObject {
    Q_OBJECT

  private slots:
    void responsesWhole() {
        sim::SimProvider provider(quickSimOptions(4));
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        const HttpReply reply = client.post("/v1/responses", responsesRequest(false).dump());
        QCOMPARE(reply.status, 200);
        const json body = parseJson(reply.body);
        QCOMPARE(body["object"], "response");
        QVERIFY(body["id"].get<std::string>().starts_with("resp_sim_"));
        QCOMPARE(body["status"], "completed");
        QCOMPARE(body["model"], "gpt-5");
        QCOMPARE(body["output"][0]["type"], "message");
        QCOMPARE(body["output"][0]["content"][0]["text"], sim::contentText(4));
        QCOMPARE(body["usage"]["input_tokens"], 6);
        QCOMPARE(body["usage"]["output_tokens"], 4);
        QCOMPARE(provider.stats().responses, uint64_t{1});
        // max_output_tokens cuts it short: incomplete, as OpenAI says it.
        json shorter = responsesRequest(false);
        shorter["max_output_tokens"] = 2;
        const json cut = parseJson(client.post("/v1/responses", shorter.dump()).body);
        QCOMPARE(cut["status"], "incomplete");
        QCOMPARE(cut["incomplete_details"]["reason"], "max_output_tokens");
        QCOMPARE(cut["usage"]["output_tokens"], 2);
    }

    void responsesStreamed() {
        sim::SimProvider provider(quickSimOptions(3));
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        const StreamReply reply = client.stream("/v1/responses", responsesRequest(true).dump());
        QCOMPARE(reply.status, 200);
        std::vector<std::string> names;
        std::string text;
        for (std::size_t i = 0; i < reply.events.size(); ++i) {
            const json data = parseJson(reply.events[i].data);
            QCOMPARE(data["type"], reply.events[i].event);
            QCOMPARE(data["sequence_number"], json(i)); // numbered from 0, one by one
            names.push_back(reply.events[i].event);
            if (reply.events[i].event == "response.output_text.delta") text += data["delta"].get<std::string>();
        }
        const std::vector<std::string> expected = {
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.completed"};
        QCOMPARE(names, expected);
        QCOMPARE(text, sim::contentText(3));
        const json completed = parseJson(reply.events.back().data);
        QCOMPARE(completed["response"]["usage"]["input_tokens"], 6);
        QCOMPARE(completed["response"]["usage"]["output_tokens"], 3);
    }

    void responsesStreamFaults() {
        sim::SimProvider provider(quickSimOptions(4));
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        provider.setFault(sim::Fault::streamError(2, 429).times(1));
        const StreamReply failed = client.stream("/v1/responses", responsesRequest(true).dump());
        QCOMPARE(failed.events.back().event, "response.failed");
        const json data = parseJson(failed.events.back().data);
        QCOMPARE(data["response"]["status"], "failed");
        QCOMPARE(data["response"]["error"]["code"], "rate_limit_exceeded");
        QCOMPARE(data["sequence_number"], json(6)); // 4 announcements, 2 deltas: 0..5
        provider.setFault(sim::Fault::cutStream(1).times(1));
        SimHttpClient other(provider.port());
        const StreamReply cut = other.stream("/v1/responses", responsesRequest(true).dump());
        QVERIFY(!cut.complete());
        QCOMPARE(cut.events.back().event, "response.output_text.delta");
    }

    void legacyCompletions() {
        sim::SimProvider provider(quickSimOptions(3));
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        const json request = {{"model", "gpt-3.5-turbo-instruct"}, {"prompt", "12345678"}, {"max_tokens", 10}};
        const json body = parseJson(client.post("/v1/completions", request.dump()).body);
        QCOMPARE(body["object"], "text_completion");
        QCOMPARE(body["choices"][0]["text"], sim::contentText(3));
        QCOMPARE(body["usage"]["prompt_tokens"], 2);
        json streamed = request;
        streamed["stream"] = true;
        streamed["stream_options"] = {{"include_usage", true}};
        const StreamReply reply = client.stream("/v1/completions", streamed.dump());
        std::string text;
        for (const auto& e : reply.events) {
            if (e.data == "[DONE]") continue;
            const json chunk = parseJson(e.data);
            if (!chunk["choices"].empty()) text += chunk["choices"][0]["text"].get<std::string>();
        }
        QCOMPARE(text, sim::contentText(3));
        QCOMPARE(reply.events.back().data, "[DONE]");
        QCOMPARE(parseJson(reply.events[reply.events.size() - 2].data)["usage"]["completion_tokens"], 3);
        QCOMPARE(provider.stats().completions, uint64_t{2});
    }

    void countTokens() {
        sim::SimProvider provider(quickSimOptions(3));
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        json request = messagesRequest("abcdefghijkl");
        request["system"] = "1234";
        const HttpReply reply = client.post("/v1/messages/count_tokens", request.dump());
        QCOMPARE(reply.status, 200);
        QCOMPARE(parseJson(reply.body), json({{"input_tokens", 4}})); // 16 bytes
        QCOMPARE(provider.stats().countTokens, uint64_t{1});
        // Anthropic's shape for its errors.
        provider.setFault(sim::Fault::httpError(529).times(1));
        const json error = parseJson(client.post("/v1/messages/count_tokens", request.dump()).body);
        QCOMPARE(error["type"], "error");
        QCOMPARE(error["error"]["type"], "overloaded_error");
    }
};

QTEST_GUILESS_MAIN(TestSimOpenAiExtras)
#include "test_sim_openai_extras.moc"
