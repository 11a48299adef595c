// How the relay reads a Responses API stream (providers/ResponsesEvents.h): where it commits, what ends it, where
// its usage is, what an in-band error means, and the error event Fusebox itself ends a broken stream with.
#include "providers/OpenAiDialect.h"
#include "providers/ResponsesEvents.h"

#include <QtTest>

using namespace fusebox;
using nlohmann::json;

namespace {

SseEvent named(const std::string& type, json data) {
    data["type"] = type;
    SseEvent event;
    event.event = type;
    event.data = data.dump();
    return event;
}

StreamEventInfo inspect(const SseEvent& event, Usage& usage) {
    return dialectFor(ProviderKind::OpenAI).inspect(event, ApiEndpoint::Responses, usage);
}

StreamEventInfo inspect(const SseEvent& event) {
    Usage usage;
    return inspect(event, usage);
}

} // namespace

class ResponsesEventsTest : public QObject {
    Q_OBJECT
private slots:
    void announcementsAreNotOutput() {
        for (const char* type : {"response.created", "response.in_progress", "response.output_item.added",
                                 "response.content_part.added", "response.reasoning_summary_part.added"}) {
            const auto info = inspect(named(type, {{"response", {{"id", "r"}}}, {"sequence_number", 0}}));
            QVERIFY2(!info.content && !info.error && !info.terminal && !info.final, type);
        }
    }

    void aNonEmptyDeltaOfAnyKindCommits() {
        for (const char* type : {"response.output_text.delta", "response.function_call_arguments.delta",
                                 "response.refusal.delta", "response.reasoning_summary_text.delta",
                                 "response.reasoning_text.delta", "response.custom_tool_call_input.delta"}) {
            QVERIFY2(inspect(named(type, {{"delta", "x"}, {"sequence_number", 3}})).content, type);
            QVERIFY2(!inspect(named(type, {{"delta", ""}, {"sequence_number", 3}})).content, type);
        }
        // A delta that is an object counts when it has something in it; only the top-level delta counts.
        QVERIFY(inspect(named("response.audio.delta", {{"delta", {{"b", 1}}}})).content);
        QVERIFY(!inspect(named("response.audio.delta", {{"delta", json::object()}})).content);
        QVERIFY(!inspect(named("response.output_text.delta", {{"item", {{"delta", "x"}}}, {"delta", ""}})).content);
        // Without an SSE event name, the data's type says it (the full parse).
        SseEvent unnamed;
        unnamed.data = json{{"type", "response.output_text.delta"}, {"delta", "hi"}}.dump();
        QVERIFY(inspect(unnamed).content);
    }

    void aBrokenEventIsABadResponse() {
        SseEvent broken;
        broken.event = "response.output_text.delta";
        broken.data = "{\"delta\": \"x\"";
        const auto info = inspect(broken);
        QVERIFY(info.error);
        QCOMPARE(info.errorOutcome, Outcome::BadResponse);
        broken.data = "[1, 2]";
        QCOMPARE(inspect(broken).errorOutcome, Outcome::BadResponse);
    }

    void doneEventsCarryOutputOnlyWithSomethingInThem() {
        QVERIFY(inspect(named("response.output_item.done",
                              {{"item", {{"type", "function_call"}, {"name", "shell"}, {"arguments", "{}"}}}}))
                    .content);
        QVERIFY(!inspect(named("response.output_item.done",
                               {{"item", {{"type", "message"}, {"content", json::array()}}}}))
                     .content);
        QVERIFY(inspect(named("response.output_item.done",
                              {{"item", {{"type", "reasoning"}, {"summary", json::array()},
                                         {"encrypted_content", "gAAA"}}}}))
                    .content);
        QVERIFY(inspect(named("response.output_text.done", {{"text", "whole"}})).content);
        QVERIFY(!inspect(named("response.output_text.done", {{"text", ""}})).content);
    }

    void completedIsTheFinalEventAndHasTheUsage() {
        Usage usage;
        const auto info = inspect(
            named("response.completed",
                  {{"response",
                    {{"output", json::array()},
                     {"usage", {{"input_tokens", 100}, {"output_tokens", 30},
                                {"input_tokens_details", {{"cached_tokens", 64}}},
                                {"output_tokens_details", {{"reasoning_tokens", 12}}}}}}}}),
            usage);
        QVERIFY(info.terminal && info.final && !info.error && !info.content);
        QVERIFY(usage.reported);
        QCOMPARE(usage.inputTokens, int64_t{100});
        QCOMPARE(usage.outputTokens, int64_t{30});
        QCOMPARE(usage.cacheReadTokens, int64_t{64});
        QCOMPARE(usage.reasoningTokens, int64_t{12});
        // With output in it, it commits too (a provider that sent no deltas).
        const auto withOutput = inspect(named(
            "response.completed",
            {{"response", {{"output", {{{"type", "message"}, {"content", {{{"type", "output_text"}, {"text", "a"}}}}}}}}}}));
        QVERIFY(withOutput.content && withOutput.final);
        // response.incomplete is a proper end as well.
        const auto incomplete = inspect(named("response.incomplete", {{"response", {{"status", "incomplete"}}}}));
        QVERIFY(incomplete.terminal && incomplete.final && !incomplete.error);
    }

    void aWholeAnswersUsageIsItsBodys() {
        const json body = {{"object", "response"},
                           {"usage", {{"input_tokens", 7}, {"output_tokens", 3},
                                      {"input_tokens_details", {{"cached_tokens", 2}}}}}};
        const Usage usage = dialectFor(ProviderKind::OpenAI).usageFromBody(body, ApiEndpoint::Responses);
        QCOMPARE(usage.inputTokens, int64_t{7});
        QCOMPARE(usage.outputTokens, int64_t{3});
        QCOMPARE(usage.cacheReadTokens, int64_t{2});
        // Hostile numbers are clamped, never thrown on.
        const json hostile = {{"usage", {{"input_tokens", -5}, {"output_tokens", "many"}}}};
        const Usage clamped = dialectFor(ProviderKind::OpenAI).usageFromBody(hostile, ApiEndpoint::Responses);
        QCOMPARE(clamped.inputTokens, int64_t{0});
        QCOMPARE(clamped.outputTokens, int64_t{0});
    }

    void inBandErrorsAndWhatTheyMean() {
        const auto failed = inspect(named(
            "response.failed", {{"response", {{"error", {{"code", "server_error"}, {"message", "boom"}}}}}}));
        QVERIFY(failed.error);
        QCOMPARE(failed.errorOutcome, Outcome::ServerError);
        QVERIFY(failed.errorMessage.find("boom") != std::string::npos);
        const auto limited = inspect(named(
            "response.failed", {{"response", {{"error", {{"code", "rate_limit_exceeded"}, {"message", "m"}}}}}}));
        QCOMPARE(limited.errorOutcome, Outcome::RateLimited);
        // The documented shape (fields at the top) and the live one (inside "error").
        const auto documented = inspect(named("error", {{"code", "context_length_exceeded"}, {"message", "too long"}}));
        QVERIFY(documented.error);
        QCOMPARE(documented.errorOutcome, Outcome::ClientError);
        const auto live = inspect(named("error", {{"error", {{"code", "insufficient_quota"}, {"message", "pay"}}}}));
        QCOMPARE(live.errorOutcome, Outcome::RateLimited);
        QVERIFY(live.errorMessage.find("pay") != std::string::npos);
        // Anything at all where the error should be: still an error, never a throw.
        QVERIFY(inspect(named("error", {{"error", 5}})).error);
        QVERIFY(inspect(named("response.failed", {{"response", "gone"}})).error);
    }

    void ourErrorEventIsWhatTheSdksRaiseOn() {
        const std::string event =
            dialectFor(ProviderKind::OpenAI)
                .streamErrorEvent(ApiEndpoint::Responses, "stream from alpha broke", StreamErrorContext{7});
        QVERIFY(event.starts_with("event: error\ndata: "));
        QVERIFY(event.ends_with("\n\n"));
        const json data = json::parse(event.substr(event.find("data: ") + 6));
        QCOMPARE(data["type"], json("error"));
        QCOMPARE(data["code"], json("upstream_stream_interrupted"));
        QCOMPARE(data["message"], json("stream from alpha broke"));
        QVERIFY(data["param"].is_null());
        QCOMPARE(data["sequence_number"], json(7));
        QCOMPARE(data["error"]["message"], json("stream from alpha broke"));
        // Read back by our own inspection, it is an error too.
        SseEvent back;
        back.event = "error";
        back.data = data.dump();
        QVERIFY(inspect(back).error);
        // Chat Completions keep their own shape.
        const std::string chat = dialectFor(ProviderKind::OpenAI).streamErrorEvent(ApiEndpoint::ChatCompletions, "x");
        QVERIFY(chat.starts_with("data: {\"error\""));
    }

    void theLastSequenceNumberOfRelayedBytes() {
        QCOMPARE(lastSequenceNumber("event: a\ndata: {\"sequence_number\":3}\n\nevent: b\ndata: {\"x\":1,\"sequence_number\": 41}\n\n"),
                 int64_t{41});
        QCOMPARE(lastSequenceNumber("data: {\"choices\":[]}\n\n"), int64_t{-1});
        QCOMPARE(lastSequenceNumber("data: {\"sequence_number\":\"no\"}"), int64_t{-1});
        QCOMPARE(lastSequenceNumber("data: {\"sequence_number\":99999999999999999999999}"), int64_t{-1});
    }
};

QTEST_GUILESS_MAIN(ResponsesEventsTest)
#include "test_responses_events.moc"
