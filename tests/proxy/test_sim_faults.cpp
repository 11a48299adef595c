// The sim provider's fault modes over real sockets, and switching them while requests are in flight.
#include "SimHttpClient.h"
#include "SimRequests.h"
#include "sim/SimProvider.h"
#include "sim/SimResponses.h"

#include <QtTest>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;

namespace {

int contentEvents(const StreamReply& reply) {
    int count = 0;
    for (const auto& event : reply.events) {
        const json data = parseJson(event.data);
        if (event.event == "content_block_delta") ++count;
        if (data.is_object() && data.contains("choices") && !data["choices"].empty() &&
            data["choices"][0]["delta"].contains("content") && data["choices"][0]["delta"]["content"] != "")
            ++count;
    }
    return count;
}

bool hasEvent(const StreamReply& reply, const std::string& name, const std::string& data = {}) {
    for (const auto& event : reply.events)
        if ((name.empty() || event.event == name) && (data.empty() || event.data == data)) return true;
    return false;
}

} // namespace

class TestSimFaults : public QObject {
    Q_OBJECT

  private slots:
    void httpError_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("retryAfter");
        QTest::addColumn<QString>("type");
        QTest::newRow("openai 503 seconds") << "/v1/chat/completions" << 503 << "7"
                                            << "server_error";
        QTest::newRow("openai 429") << "/v1/chat/completions" << 429 << ""
                                    << "rate_limit_error";
        QTest::newRow("openai 500") << "/v1/embeddings" << 500 << ""
                                    << "server_error";
        QTest::newRow("anthropic 529 date") << "/v1/messages" << 529 << "Wed, 21 Oct 2026 07:28:00 GMT"
                                            << "overloaded_error";
        QTest::newRow("anthropic 503") << "/v1/messages" << 503 << ""
                                       << "overloaded_error";
        QTest::newRow("anthropic 429") << "/v1/messages" << 429 << "30"
                                       << "rate_limit_error";
        QTest::newRow("anthropic 500") << "/v1/messages" << 500 << ""
                                       << "api_error";
        QTest::newRow("anthropic 401") << "/v1/messages" << 401 << ""
                                       << "authentication_error";
        QTest::newRow("anthropic 400") << "/v1/messages" << 400 << ""
                                       << "invalid_request_error";
    }
    void httpError() {
        QFETCH(QString, path);
        QFETCH(int, status);
        QFETCH(QString, retryAfter);
        QFETCH(QString, type);
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        provider.setFault(sim::Fault::httpError(status, retryAfter.toStdString()));
        SimHttpClient client(provider.port());
        const bool anthropic = path == "/v1/messages";
        const json request = anthropic                  ? messagesRequest()
                             : path == "/v1/embeddings" ? json{{"model", "e"}, {"input", "x"}}
                                                        : chatRequest();
        const HttpReply reply = client.post(path.toStdString(), request.dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(reply.status, status);
        QCOMPARE(reply.header("retry-after"), retryAfter.toStdString());
        QCOMPARE(reply.hasHeader("retry-after"), !retryAfter.isEmpty());
        const json body = parseJson(reply.body);
        if (anthropic) {
            QCOMPARE(body["type"], "error");
            QCOMPARE(body["error"]["type"], type.toStdString());
            QVERIFY(!body["error"]["message"].get<std::string>().empty());
        } else {
            QCOMPARE(body["error"]["type"], type.toStdString());
            QVERIFY(body["error"].contains("param") && body["error"].contains("code"));
        }
        QCOMPARE(int(provider.stats().faultsInjected), 1);
    }

    void latencyDelaysTheFirstByte() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        provider.setFault(sim::Fault::slow(Millis{300}));
        SimHttpClient client(provider.port());
        QElapsedTimer timer;
        timer.start();
        HttpReply reply = client.post("/v1/chat/completions", chatRequest().dump());
        QVERIFY(timer.elapsed() >= 300); // a timer's lower bound: not timing-fragile
        QCOMPARE(reply.status, 200);
        const StreamReply streamed = client.stream("/v1/messages", messagesRequest("x", true).dump());
        QVERIFY(streamed.headersAtMs >= 300);
        QVERIFY(hasEvent(streamed, "message_stop"));

        // Latency combines with any other kind.
        provider.setFault(sim::Fault::httpError(502).withLatency(Millis{200}));
        timer.restart();
        reply = client.post("/v1/chat/completions", chatRequest().dump());
        QVERIFY(timer.elapsed() >= 200);
        QCOMPARE(reply.status, 502);
    }

    void clientGivingUpDuringLatencyIsLetGo() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        provider.setFault(sim::Fault::slow(Millis{60'000}));
        SimHttpClient client(provider.port(), std::chrono::milliseconds(200));
        QVERIFY(!client.post("/v1/chat/completions", chatRequest().dump()).complete());
        // Well before the minute is up: the provider noticed the close, it did not wait to write.
        QTRY_COMPARE(int(provider.stats().openConnections), 0);
    }

    void hangHoldsTheRequestUntilTheClientLeaves() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        provider.setFault(sim::Fault::hang());
        SimHttpClient client(provider.port(), std::chrono::milliseconds(300));
        const HttpReply reply = client.post("/v1/chat/completions", chatRequest().dump());
        QVERIFY(!reply.complete()); // timed out: nothing came back
        QCOMPARE(reply.status, 0);
        QTRY_COMPARE(int(provider.stats().hanging), 0); // the client's timeout closed the socket

        SimHttpClient holder(provider.port());
        const std::string body = chatRequest().dump();
        QVERIFY(holder.writeRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body));
        QTRY_COMPARE(int(provider.stats().hanging), 1);
        QCOMPARE(int(provider.stats().requests), 2); // the request was read in full
        holder.close();
        QTRY_COMPARE(int(provider.stats().hanging), 0);
        QTRY_COMPARE(int(provider.stats().openConnections), 0);
    }

    void cutStreamEndsWithoutATerminator() {
        sim::SimProvider provider(quickSimOptions(6));
        QVERIFY(provider.start());
        provider.setFault(sim::Fault::cutStream(3));
        SimHttpClient client(provider.port());
        StreamReply reply = client.stream("/v1/chat/completions", chatRequest("x", true).dump());
        QCOMPARE(reply.status, 200);
        QVERIFY(!reply.complete()); // the chunked body never ended
        QCOMPARE(contentEvents(reply), 3);
        QVERIFY(!hasEvent(reply, "", "[DONE]"));

        reply = client.stream("/v1/messages", messagesRequest("x", true).dump());
        QVERIFY(!reply.complete());
        QCOMPARE(contentEvents(reply), 3);
        QVERIFY(hasEvent(reply, "ping"));
        QVERIFY(!hasEvent(reply, "message_stop"));

        provider.setFault(sim::Fault::cutStream(0));
        reply = client.stream("/v1/messages", messagesRequest("x", true).dump());
        QCOMPARE(contentEvents(reply), 0);
        QVERIFY(hasEvent(reply, "message_start"));

        // Not streamed: the full Content-Length is promised, half the body comes.
        const HttpReply plain = client.post("/v1/chat/completions", chatRequest().dump());
        QCOMPARE(plain.status, 200);
        QVERIFY(!plain.complete());
        QVERIFY(parseJson(plain.body).is_discarded());
        QCOMPARE(int(provider.stats().streamsCut), 3);
        QCOMPARE(int(provider.stats().streamsCompleted), 0);
    }

    void streamErrorIsInBandInEachDialect() {
        sim::SimProvider provider(quickSimOptions(6));
        QVERIFY(provider.start());
        provider.setFault(sim::Fault::streamError(2));
        SimHttpClient client(provider.port());
        StreamReply reply = client.stream("/v1/chat/completions", chatRequest("x", true).dump());
        QVERIFY2(reply.complete(), reply.error.c_str()); // a clean HTTP end, but no [DONE]
        QCOMPARE(contentEvents(reply), 2);
        QVERIFY(!hasEvent(reply, "", "[DONE]"));
        const json error = parseJson(reply.events.back().data);
        QCOMPARE(error["error"]["type"], "server_error");
        QVERIFY(error["error"]["message"].is_string());

        reply = client.stream("/v1/messages", messagesRequest("x", true).dump());
        QVERIFY2(reply.complete(), reply.error.c_str());
        QCOMPARE(contentEvents(reply), 2);
        QCOMPARE(reply.events.back().event, std::string("error"));
        const json anthropic = parseJson(reply.events.back().data);
        QCOMPARE(anthropic["type"], "error");
        QCOMPARE(anthropic["error"]["type"], "overloaded_error");
        QVERIFY(!hasEvent(reply, "message_stop"));

        // No in-band error without a stream: the status instead.
        QCOMPARE(client.post("/v1/messages", messagesRequest().dump()).status, 503);
        // The connection survives an in-band error.
        QCOMPARE(client.connectionsOpened(), 1);
    }

    void garbageIsNeitherJsonNorSse() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        provider.setFault(sim::Fault::garbage());
        SimHttpClient client(provider.port());
        const HttpReply plain = client.post("/v1/chat/completions", chatRequest().dump());
        QCOMPARE(plain.status, 200);
        QVERIFY(plain.complete());
        QVERIFY(!plain.body.empty());
        QVERIFY(parseJson(plain.body).is_discarded());
        const StreamReply streamed = client.stream("/v1/chat/completions", chatRequest("x", true).dump());
        QCOMPARE(streamed.status, 200);
        QVERIFY2(!streamed.body.empty(), streamed.error.c_str());
        for (const auto& event : streamed.events)
            QVERIFY(parseJson(event.data).is_discarded());
        QVERIFY(streamed.body.find("[DONE]") == std::string::npos);
    }

    void countedFaultClearsItself() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        provider.setFault(sim::Fault::httpError(500).times(2));
        QCOMPARE(provider.fault()->count, 2);
        SimHttpClient client(provider.port());
        QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump()).status, 500);
        QCOMPARE(provider.fault()->count, 1);
        QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump()).status, 500);
        QVERIFY(!provider.fault().has_value());
        QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump()).status, 200);
    }

    void probabilityIsSeededAndRepeatable() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        auto run = [&](uint64_t seed) {
            provider.setFault(sim::Fault::httpError(503).withProbability(0.3, seed));
            std::string pattern;
            for (int i = 0; i < 100; ++i)
                pattern +=
                    client.post("/v1/chat/completions", chatRequest().dump()).status == 503 ? 'x' : '.';
            return pattern;
        };
        const std::string first = run(42);
        const auto failures = std::count(first.begin(), first.end(), 'x');
        QVERIFY2(failures >= 10 && failures <= 55,
                 first.c_str()); // 30 expected; the seed makes it exact anyway
        QCOMPARE(run(42), first);
        QVERIFY(run(7) != first);
    }

    void faultCanBeLimitedToOnePath() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        provider.setFault(sim::Fault::httpError(529).onPath("/v1/messages"));
        SimHttpClient client(provider.port());
        QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump()).status, 200);
        QCOMPARE(client.post("/v1/messages?beta=true", messagesRequest().dump()).status, 529);
    }

    void switchingAppliesToNewRequestsOnly() {
        sim::SimProvider provider(quickSimOptions(8, Millis{20}));
        QVERIFY(provider.start());
        SimHttpClient streaming(provider.port());
        SimHttpClient other(provider.port());
        int seen = 0;
        int statusDuringStream = 0;
        const StreamReply reply =
            streaming.stream("/v1/chat/completions", chatRequest("x", true).dump(), {}, [&](const SseEvent&) {
                if (++seen == 3) {
                    // From another thread's point of view the switch happens mid-stream.
                    provider.setFault(sim::Fault::httpError(503));
                    statusDuringStream = other.post("/v1/chat/completions", chatRequest().dump()).status;
                }
                return true;
            });
        QCOMPARE(statusDuringStream, 503);
        QVERIFY2(reply.complete(),
                 reply.error.c_str()); // the stream that began before the switch is untouched
        QCOMPARE(contentEvents(reply), 8);
        QVERIFY(hasEvent(reply, "", "[DONE]"));
        QCOMPARE(streaming.stream("/v1/chat/completions", chatRequest("x", true).dump()).status, 503);
        provider.clearFault();
        QCOMPARE(other.post("/v1/chat/completions", chatRequest().dump()).status, 200);
    }
};

QTEST_GUILESS_MAIN(TestSimFaults)
#include "test_sim_faults.moc"
