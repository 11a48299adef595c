// The sim provider's lifetime and counters: keep-alive, clients leaving mid-stream, stop() with connections
// that will never finish on their own, restarts, and 200 concurrent streams.
#include "SimHttpClient.h"
#include "SimRequests.h"
#include "sim/SimProvider.h"

#include <QtTest>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

std::string rawPost(const std::string& target, const std::string& body) {
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

// One streamed request on its own connection, all of them on one io_context: the way a load test drives
// many streams from a single thread.
struct LoadStream : std::enable_shared_from_this<LoadStream> {
    LoadStream(net::io_context& ioc, const std::string& request) : stream(ioc), request(request) {}
    void start(uint16_t port) {
        stream.expires_after(std::chrono::seconds(30));
        stream.async_connect(
            {net::ip::make_address("127.0.0.1"), port}, [self = shared_from_this()](auto ec) {
                if (ec) return self->fail(ec);
                net::async_write(self->stream, net::buffer(self->request), [self](auto ec, std::size_t) {
                    if (ec) return self->fail(ec);
                    http::async_read(self->stream, self->buffer, self->parser, [self](auto ec, std::size_t) {
                        if (ec) return self->fail(ec);
                        self->body = self->parser.get().body();
                        self->done = true;
                    });
                });
            });
    }
    void fail(beast::error_code ec) { error = ec.message(); }

    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    std::string request;
    std::string body;
    std::string error;
    bool done = false;
};

} // namespace

class TestSimLifecycle : public QObject {
    Q_OBJECT

  private slots:
    void countsPerEndpointAndKeepsConnectionsAlive() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        QCOMPARE(client.post("/v1/chat/completions", chatRequest().dump()).status, 200);
        QCOMPARE(client.post("/v1/embeddings", json{{"model", "e"}, {"input", "x"}}.dump()).status, 200);
        QCOMPARE(client.get("/v1/models").status, 200);
        QCOMPARE(client.post("/v1/messages", messagesRequest().dump()).status, 200);
        QVERIFY(client.stream("/v1/messages", messagesRequest("x", true).dump()).complete());
        QCOMPARE(client.post("/nope", "{}").status, 404);
        const sim::Stats stats = provider.stats();
        QCOMPARE(int(stats.requests), 6);
        QCOMPARE(int(stats.chatCompletions), 1);
        QCOMPARE(int(stats.embeddings), 1);
        QCOMPARE(int(stats.models), 1);
        QCOMPARE(int(stats.messages), 2);
        QCOMPARE(int(stats.notFound), 1);
        QCOMPARE(int(stats.streamsStarted), 1);
        QCOMPARE(int(stats.streamsCompleted), 1);
        QCOMPARE(int(stats.streamsAborted), 0);
        QCOMPARE(int(stats.connectionsAccepted), 1);
        QCOMPARE(int(stats.openConnections), 1);
        QCOMPARE(client.connectionsOpened(), 1);
        client.close();
        QTRY_COMPARE(int(provider.stats().openConnections), 0);
    }

    void clientLeavingMidStreamIsCountedAborted() {
        // 20 events 50 ms apart: the client leaves about 0.9 s before the stream would have ended.
        sim::SimProvider provider(quickSimOptions(20, Millis{50}));
        QVERIFY(provider.start());
        SimHttpClient client(provider.port());
        int seen = 0;
        const StreamReply reply = client.stream("/v1/chat/completions", chatRequest("x", true).dump(), {},
                                                [&](const SseEvent&) { return ++seen < 3; });
        QVERIFY(reply.clientClosed);
        QTRY_COMPARE(int(provider.stats().streamsAborted), 1);
        QCOMPARE(int(provider.stats().streamsCompleted), 0);
        QCOMPARE(int(provider.stats().activeStreams), 0);
        QTRY_COMPARE(int(provider.stats().openConnections), 0);
    }

    void stopClosesHungAndStreamingConnectionsPromptly() {
        sim::SimProvider provider(quickSimOptions(100, Millis{1000})); // a stream that would last 100 s
        QVERIFY(provider.start());
        SimHttpClient streaming(provider.port());
        QVERIFY(streaming.writeRaw(rawPost("/v1/messages", messagesRequest("x", true).dump())));
        QVERIFY(!streaming.readRawUntil("event: ping").empty()); // the stream is under way
        provider.setFault(sim::Fault::hang());
        SimHttpClient hung(provider.port());
        QVERIFY(hung.writeRaw(rawPost("/v1/chat/completions", chatRequest().dump())));
        SimHttpClient idle(provider.port());
        QVERIFY(idle.writeRaw("")); // connected, never asks anything
        QTRY_COMPARE(int(provider.stats().hanging), 1);
        QTRY_COMPARE(int(provider.stats().openConnections), 3);
        QCOMPARE(int(provider.stats().activeStreams), 1);

        QElapsedTimer timer;
        timer.start();
        provider.stop();
        QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
        QVERIFY(!provider.running());
        provider.stop(); // idempotent

        // Every client sees its connection end now, not after its own 10 s timeout.
        timer.restart();
        QVERIFY(hung.readRawUntil("\r\n\r\n").empty());
        QVERIFY(streaming.readRawUntil("message_stop").empty());
        QVERIFY(idle.readRawUntil("\r\n").empty());
        QVERIFY(timer.elapsed() < 5000);
        const sim::Stats stats = provider.stats();
        QCOMPARE(int(stats.openConnections), 0);
        QCOMPARE(int(stats.hanging), 0);
        QCOMPARE(int(stats.activeStreams), 0);
    }

    void destructorStopsWithAHungRequest() {
        auto provider = std::make_unique<sim::SimProvider>(quickSimOptions());
        QVERIFY(provider->start());
        provider->setFault(sim::Fault::hang());
        SimHttpClient hung(provider->port());
        QVERIFY(hung.writeRaw(rawPost("/v1/messages", messagesRequest().dump())));
        QTRY_COMPARE(int(provider->stats().hanging), 1);
        QElapsedTimer timer;
        timer.start();
        provider.reset();
        QVERIFY2(timer.elapsed() < 2000, qPrintable(QString::number(timer.elapsed())));
        QVERIFY(hung.readRawUntil("\r\n\r\n").empty());
    }

    void restartComesBackOnTheSamePort() {
        sim::SimProvider provider(quickSimOptions());
        QVERIFY(provider.start());
        QVERIFY(provider.start()); // already running: nothing happens
        const uint16_t port = provider.port();
        QVERIFY(port != 0);
        SimHttpClient client(port);
        QCOMPARE(client.get("/v1/models").status, 200);
        provider.stop();
        QVERIFY(!client.get("/v1/models").complete()); // down: refused
        QVERIFY(provider.start());
        QCOMPARE(provider.port(), port);
        QCOMPARE(client.get("/v1/models").status, 200);
        QCOMPARE(int(provider.stats().models), 2); // counters survive a restart
    }

    void startFailsOnATakenPort() {
        sim::SimProvider first(quickSimOptions());
        QVERIFY(first.start());
        sim::Options options = quickSimOptions();
        options.port = first.port();
        sim::SimProvider second(options);
        QVERIFY(!second.start());
        QVERIFY(!second.running());
        QVERIFY2(second.lastError().find(std::to_string(first.port())) != std::string::npos,
                 second.lastError().c_str());
        second.stop(); // harmless
    }

    void twoHundredConcurrentStreams() {
        // 10 events 20 ms apart: 0.2 s per stream, 40 s if they were served one after another.
        sim::Options options = quickSimOptions(10, Millis{20});
        options.threads = 2;
        sim::SimProvider provider(options);
        QVERIFY(provider.start());
        const std::string request = rawPost("/v1/chat/completions", chatRequest("x", true).dump());
        net::io_context ioc;
        std::vector<std::shared_ptr<LoadStream>> streams;
        for (int i = 0; i < 200; ++i) {
            streams.push_back(std::make_shared<LoadStream>(ioc, request));
            streams.back()->start(provider.port());
        }
        QElapsedTimer timer;
        timer.start();
        ioc.run();
        QVERIFY2(timer.elapsed() < 15000, qPrintable(QString::number(timer.elapsed())));
        for (const auto& stream : streams) {
            QVERIFY2(stream->done, stream->error.c_str());
            QCOMPARE(std::count(stream->body.begin(), stream->body.end(), '\n') / 2, std::ptrdiff_t(13));
            QVERIFY(stream->body.ends_with("data: [DONE]\n\n"));
        }
        // Counted when the server-side write completes, which may be just after the client has it all.
        QTRY_COMPARE(int(provider.stats().streamsCompleted), 200);
        QCOMPARE(int(provider.stats().connectionsAccepted), 200);
    }
};

QTEST_GUILESS_MAIN(TestSimLifecycle)
#include "test_sim_lifecycle.moc"
