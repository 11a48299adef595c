// The upstream client against real loopback sockets and a scripted raw-TCP server
// (tests/support/RawHttpServer). Runs twice (tests/CMakeLists.txt): plain http:// through the loop's own client,
// and through libcurl (FUSEBOX_TEST_PLAIN_HTTP=curl), which must behave the same.
#include "proxy/UpstreamClient.h"

#include "RawHttpServer.h"
#include "UpstreamHarness.h"

#include <QtTest>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

using namespace fusebox;
using namespace std::chrono_literals;
using namespace fusebox::test;
using Server = RawHttpServer;

class TestUpstream : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase() {
        // The client honours curl's proxy environment; loopback tests must not go through someone's proxy.
        qputenv("no_proxy", "127.0.0.1,localhost");
        qputenv("NO_PROXY", "127.0.0.1,localhost");
    }

    void jsonResponse() {
        Server server(Server::Script{Server::send(
            Server::response(200, R"({"id":"x","ok":true})", {{"Content-Type", "application/json"}}))});
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        client.start(post(server.url("/v1/chat/completions")), rec.callbacks());
        QCOMPARE(client.inFlight(), std::size_t(1));
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::None));
        QVERIFY(rec.result.message.empty());
        QCOMPARE(rec.result.status, 200);
        QCOMPARE(rec.heads, 1);
        QCOMPARE(rec.head.status, 200);
        QCOMPARE(rec.head.header("Content-Type").value_or(""), std::string("application/json"));
        QCOMPARE(rec.head.headers.front().first, std::string("content-type")); // names lower-cased
        QCOMPARE(rec.body, std::string(R"({"id":"x","ok":true})"));
        QVERIFY(rec.result.timeToFirstByte <= rec.result.duration);
        QVERIFY(!rec.orderBroken);
        QCOMPARE(client.inFlight(), std::size_t(0));
    }

    void sseIsRelayedChunkByChunk() {
        std::atomic<bool> firstChunkSeen{false};
        std::atomic<bool> lastChunkSent{false};
        Server server(Server::Script{
            Server::send(Server::chunkedHead(200) + Server::chunk("data: {\"n\":1}\n\n")),
            // The rest is sent only once the client has seen the first event: a client that buffers the body
            // until its end stalls here for 10 s, and the check below fails.
            Server::waitUntil([&] { return firstChunkSeen.load(); }),
            Server::run([&] { lastChunkSent = true; }),
            Server::send(Server::chunk("data: {\"n\":2}\n\n") + Server::chunk("data: [DONE]\n\n") +
                         std::string(Server::kLastChunk)),
        });
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        bool lastSentBeforeFirstChunk = true;
        rec.afterChunk = [&](std::string_view) {
            if (rec.chunks.size() == 1) {
                lastSentBeforeFirstChunk = lastChunkSent.load();
                firstChunkSeen = true;
            }
        };
        const auto started = std::chrono::steady_clock::now();
        client.start(post(server.url("/v1/chat/completions")), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QVERIFY(std::chrono::steady_clock::now() - started < 5s);
        QCOMPARE(name(rec.result.error), name(TransportError::None));
        QCOMPARE(rec.head.header("content-type").value_or(""), std::string("text/event-stream"));
        QVERIFY(!lastSentBeforeFirstChunk);
        QVERIFY(rec.chunks.size() >= 2);
        QCOMPARE(rec.chunks.front(), std::string("data: {\"n\":1}\n\n"));
        QCOMPARE(rec.body, std::string("data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: [DONE]\n\n"));
        QVERIFY(!rec.orderBroken);
    }

    void errorStatusIsNotATransportError() {
        Server server(Server::Script{Server::send(Server::response(
            503, R"({"error":"overloaded"})", {{"Retry-After", "7"}, {"X-Request-Id", "abc"}}))});
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        client.start(post(server.url()), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::None));
        QCOMPARE(rec.result.status, 503);
        QCOMPARE(rec.head.status, 503);
        QCOMPARE(rec.head.header("Retry-After").value_or(""), std::string("7"));
        QCOMPARE(rec.head.header("RETRY-AFTER").value_or(""), std::string("7"));
        QVERIFY(!rec.head.header("x-missing"));
        QCOMPARE(rec.body, std::string(R"({"error":"overloaded"})"));
    }

    void interimResponsesAreSkipped() {
        Server server(Server::Script{Server::send("HTTP/1.1 100 Continue\r\n\r\n" +
                                                  Server::response(200, "ok", {{"X-Final", "yes"}}))});
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        client.start(post(server.url()), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::None));
        QCOMPARE(rec.heads, 1);
        QCOMPARE(rec.head.status, 200);
        QCOMPARE(rec.head.header("x-final").value_or(""), std::string("yes"));
        QCOMPARE(rec.body, std::string("ok"));
    }

    void connectionRefusedIsConnectError() {
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        client.start(post("http://127.0.0.1:" + std::to_string(test::unusedLoopbackPort()) + "/"),
                     rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::Connect));
        QVERIFY2(rec.result.message.starts_with("connect error"), rec.result.message.c_str());
        QCOMPARE(rec.heads, 0);
        QCOMPARE(rec.result.status, 0);
    }

    void stalledTlsHandshakeIsConnectTimeout() {
        // The raw server never answers a TLS ClientHello: the handshake, part of connect, stalls.
        Server server(Server::Script{Server::hang()});
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        UpstreamRequest request = post("https://127.0.0.1:" + std::to_string(server.port()) + "/");
        request.timeouts.connect = 300ms;
        client.start(request, rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::Timeout));
        QVERIFY2(rec.result.message.starts_with("connect timeout: not connected within 300 ms"),
                 rec.result.message.c_str());
        QVERIFY(rec.result.duration >= 250ms);
        QVERIFY(rec.result.duration < 4000ms);
    }

    void hangBeforeHeadersIsFirstByteTimeout() {
        Server server(Server::Script{Server::hang()});
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        UpstreamRequest request = post(server.url(), timeouts(200ms, 5000ms));
        request.stream = true;
        client.start(std::move(request), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::Timeout));
        QVERIFY2(rec.result.message.find("first_byte") != std::string::npos, rec.result.message.c_str());
        QVERIFY2(rec.result.message.find("first byte not received within 200 ms") != std::string::npos,
                 rec.result.message.c_str());
        QVERIFY(rec.result.duration >= 190ms);
        QVERIFY(rec.result.duration < 4000ms);
        QCOMPARE(rec.heads, 0);
        QVERIFY(loop.runUntil([&] { return server.connectionsClosedByClient() == 1; }, 5s));
    }

    void aWholeAnswerMayTakeLongerThanFirstByte() {
        // A non-streamed answer sends nothing until it is done (minutes, for long reasoning): total bounds it.
        Server server(Server::Script{Server::wait(500ms), Server::send(Server::response(200, R"({"ok":true})"))});
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        client.start(post(server.url(), timeouts(100ms, 5000ms)), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QVERIFY2(rec.result.ok(), rec.result.message.c_str());
        QCOMPARE(rec.result.status, 200);
        QCOMPARE(rec.body, std::string(R"({"ok":true})"));
        QVERIFY(rec.result.timeToFirstByte >= 450ms);
    }

    void aWholeAnswerThatNeverComesEndsAtTotal() {
        Server server(Server::Script{Server::hang()});
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        client.start(post(server.url(), timeouts(100ms, 5000ms, 400ms)), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::Timeout));
        QVERIFY2(rec.result.message.starts_with("total timeout"), rec.result.message.c_str());
        QVERIFY(rec.result.duration >= 390ms);
        QVERIFY(rec.result.duration < 4000ms);
    }

    void stallMidBodyIsIdleTimeout() {
        Server server(Server::Script{
            Server::send(Server::chunkedHead(200) + Server::chunk("data: a\n\n")),
            Server::hang(),
        });
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        client.start(post(server.url(), timeouts(5000ms, 250ms)), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::Timeout));
        QVERIFY2(rec.result.message.find("idle timeout") != std::string::npos, rec.result.message.c_str());
        QCOMPARE(rec.result.status, 200);
        QCOMPARE(rec.body, std::string("data: a\n\n"));
        QVERIFY(rec.result.duration >= 240ms);
    }

    void slowStreamHitsTotalDeadline() {
        Server::Script script{Server::send(Server::chunkedHead(200))};
        for (int i = 0; i < 100; ++i) {
            script.push_back(Server::send(Server::chunk("data: tick\n\n")));
            script.push_back(Server::wait(40ms));
        }
        Server server(script);
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        client.start(post(server.url(), timeouts(5000ms, 2000ms, 400ms)), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::Timeout));
        QVERIFY2(rec.result.message.find("total timeout") != std::string::npos, rec.result.message.c_str());
        QVERIFY(rec.chunks.size() >= 2);
        QVERIFY(rec.result.duration >= 390ms);
        QVERIFY(rec.result.duration < 3000ms);
    }

    void brokenResponsesAreBadResponse() {
        struct Case {
            const char* name;
            Server::Script script;
        };
        const std::vector<Case> cases = {
            {"content-length longer than the body",
             {Server::send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part"), Server::close()}},
            {"chunked stream cut before its last chunk",
             {Server::send(Server::chunkedHead(200) + Server::chunk("data: a\n\n")), Server::close()}},
            {"bad chunk framing",
             {Server::send(Server::chunkedHead(200) + "zz\r\nnot hex\r\n"), Server::close()}},
            {"garbage instead of a status line", {Server::send("garbage garbage\r\n\r\n"), Server::close()}},
            {"closed without a byte", {Server::close()}},
        };
        for (const Case& c : cases) {
            Server server(c.script);
            Loop loop;
            UpstreamClient client(loop.io(), plainHttpEngine());
            Recorder rec;
            client.start(post(server.url()), rec.callbacks());
            QVERIFY2(loop.runUntil([&] { return rec.done(); }), c.name);
            QVERIFY2(
                rec.result.error == TransportError::BadResponse,
                (std::string(c.name) + ": " + name(rec.result.error) + " " + rec.result.message).c_str());
            QVERIFY2(rec.result.message.starts_with("bad response"), rec.result.message.c_str());
            QVERIFY2(!rec.orderBroken, c.name);
        }
    }

    void cancelInsideOnDataClosesTheConnection() {
        Server server(Server::Script{
            Server::send(Server::chunkedHead(200) + Server::chunk("data: a\n\n")),
            Server::wait(100ms),
            Server::send(Server::chunk("data: b\n\n")),
            Server::hang(),
        });
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        std::shared_ptr<UpstreamCall> call;
        bool doneInsideCancel = false;
        rec.afterChunk = [&](std::string_view) {
            call->cancel();
            doneInsideCancel = rec.done();
            call->cancel(); // twice is harmless
        };
        call = client.start(post(server.url()), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QVERIFY(!doneInsideCancel);
        QCOMPARE(name(rec.result.error), name(TransportError::Cancelled));
        QCOMPARE(rec.dones, 1);
        QCOMPARE(rec.chunks.size(), std::size_t(1));
        QVERIFY(call->finished());
        QVERIFY(loop.runUntil([&] { return server.connectionsClosedByClient() == 1; }, 5s));
        loop.runFor(200ms); // nothing more arrives
        QCOMPARE(rec.dones, 1);
        QCOMPARE(rec.chunks.size(), std::size_t(1));
        QVERIFY(!rec.orderBroken);
        QCOMPARE(client.inFlight(), std::size_t(0));
    }

    void cancelFromOutsideMidStream() {
        Server server(Server::Script{
            Server::send(Server::chunkedHead(200) + Server::chunk("data: a\n\n")),
            Server::hang(),
        });
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        auto call = client.start(post(server.url()), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.chunks.size() == 1; }));
        call->cancel();
        QVERIFY(!rec.done()); // never from inside cancel()
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QCOMPARE(name(rec.result.error), name(TransportError::Cancelled));
        QCOMPARE(rec.result.status, 200);
        QVERIFY(loop.runUntil([&] { return server.connectionsClosedByClient() == 1; }, 5s));
        call->cancel(); // after the end: no-op
        loop.runFor(50ms);
        QCOMPARE(rec.dones, 1);
    }

    void startFromInsideOnData() {
        Server server(Server::Script{
            Server::send(Server::chunkedHead(200) + Server::chunk("data: a\n\n")),
            Server::wait(50ms),
            Server::send(Server::chunk("data: b\n\n") + std::string(Server::kLastChunk)),
        });
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder first;
        Recorder second;
        first.afterChunk = [&](std::string_view) {
            if (first.chunks.size() == 1) client.start(post(server.url("/second")), second.callbacks());
        };
        client.start(post(server.url("/first")), first.callbacks());
        QVERIFY(loop.runUntil([&] { return first.done() && second.done(); }));
        QVERIFY2(first.result.ok(), first.result.message.c_str());
        QVERIFY2(second.result.ok(), second.result.message.c_str());
        QCOMPARE(second.body, std::string("data: a\n\ndata: b\n\n"));
        QCOMPARE(client.inFlight(), std::size_t(0));
    }

    void connectionIsReusedAcrossSequentialRequests() {
        Server server(Server::Script{Server::send(Server::response(200, "ok"))});
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        constexpr int kRequests = 4;
        int completed = 0;
        bool allOk = true;
        // Each next request starts from inside the previous one's onDone.
        std::function<void()> next = [&] {
            UpstreamClient::Callbacks cb;
            cb.onDone = [&](const UpstreamResult& r) {
                allOk = allOk && r.ok() && r.status == 200;
                if (++completed < kRequests) next();
            };
            client.start(post(server.url("/r" + std::to_string(completed))), cb);
        };
        next();
        QVERIFY(loop.runUntil([&] { return completed == kRequests; }));
        QVERIFY(allOk);
        QCOMPARE(server.connectionsAccepted(), 1);
        const auto requests = server.requests();
        QCOMPARE(int(requests.size()), kRequests);
        for (const auto& r : requests)
            QCOMPARE(r.connection, 1);
    }

    // An idle connection stays registered with epoll while it sits in libcurl's cache. Reused after a quiet
    // pause it carries the next request; closed by the server meanwhile, it is not used, and the next request
    // goes out on a new connection.
    void idleCachedConnectionsAreReusedOrReplaced() {
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        auto runOne = [&](const std::string& url) {
            Recorder rec;
            client.start(post(url), rec.callbacks());
            const bool finished = loop.runUntil([&] { return rec.done(); });
            return finished && rec.result.ok() && rec.result.status == 200 && rec.body == "ok";
        };

        Server quiet(Server::Script{Server::send(Server::response(200, "ok"))});
        QVERIFY(runOne(quiet.url("/a")));
        loop.runFor(150ms);
        QVERIFY(runOne(quiet.url("/b")));
        QCOMPARE(quiet.connectionsAccepted(), 1);

        Server closing(Server::Script{Server::send(Server::response(200, "ok")), Server::wait(30ms), Server::close()});
        QVERIFY(runOne(closing.url("/a")));
        loop.runFor(150ms); // the server's FIN arrives while the connection idles in the cache
        QVERIFY(runOne(closing.url("/b")));
        QCOMPARE(closing.connectionsAccepted(), 2);
    }

    void manyConcurrentRequestsOnOneClient() {
        // Each answer echoes its own path, after a pause long enough that serial handling would show.
        Server server([](const test::RawRequest& r) {
            return Server::Script{Server::wait(300ms), Server::send(Server::response(200, r.target))};
        });
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        constexpr int kCalls = 60;
        std::vector<Recorder> recs(kCalls);
        const auto started = std::chrono::steady_clock::now();
        for (int i = 0; i < kCalls; ++i)
            client.start(post(server.url("/c" + std::to_string(i))), recs[i].callbacks());
        QCOMPARE(client.inFlight(), std::size_t(kCalls));
        QVERIFY(loop.runUntil([&] { return client.inFlight() == 0; }, 20s));
        const auto elapsed = std::chrono::steady_clock::now() - started;
        for (int i = 0; i < kCalls; ++i) {
            QCOMPARE(recs[i].dones, 1);
            QVERIFY2(recs[i].result.ok(), recs[i].result.message.c_str());
            QCOMPARE(recs[i].body, "/c" + std::to_string(i));
        }
        QVERIFY2(elapsed < 8s, "60 x 300 ms did not overlap"); // serially it would take 18 s
        QCOMPARE(server.connectionsAccepted(), kCalls);        // HTTP/1.1: one connection per concurrent call
    }

    void requestArrivesAsGiven() {
        Server server(Server::Script{Server::send(Server::response(200, "ok"))});
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        UpstreamRequest request = post(server.url("/v1/chat/completions?x=1"));
        std::string body(2 * 1024 * 1024, 'x'); // over 1 MiB: curl would otherwise send Expect: 100-continue
        body.front() = '{';
        body.back() = '}';
        request.body = body;
        request.headers = {{"Content-Type", "application/json"},
                           {"Authorization", "Bearer sk-test"},
                           {"X-Custom", "  abc  "},
                           {"X-Empty", ""},
                           {"Expect", "100-continue"},
                           {"Content-Length", "5"},
                           {"X-Evil", "a\r\nX-Injected: 1"}};
        Recorder rec;
        client.start(request, rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QVERIFY2(rec.result.ok(), rec.result.message.c_str());
        const auto requests = server.requests();
        QCOMPARE(int(requests.size()), 1);
        const test::RawRequest& got = requests.front();
        QCOMPARE(got.method, std::string("POST"));
        QCOMPARE(got.target, std::string("/v1/chat/completions?x=1"));
        QVERIFY(got.body == body);
        const std::string& head = got.head;
        QVERIFY2(head.find("\r\nContent-Type: application/json\r\n") != std::string::npos, head.c_str());
        QVERIFY2(head.find("\r\nAuthorization: Bearer sk-test\r\n") != std::string::npos, head.c_str());
        QVERIFY2(head.find("\r\nX-Custom: abc\r\n") != std::string::npos, head.c_str());
        QVERIFY2(head.find("\r\nX-Empty:") != std::string::npos, head.c_str());
        QVERIFY2(head.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") !=
                     std::string::npos,
                 head.c_str());
        QVERIFY2(head.find("Expect") == std::string::npos, head.c_str());
        QVERIFY2(head.find("Accept") == std::string::npos, head.c_str());
        QVERIFY2(head.find("Injected") == std::string::npos, head.c_str());
        QVERIFY2(head.find("User-Agent") == std::string::npos, head.c_str());

        Recorder getRec;
        UpstreamRequest get;
        get.method = "GET";
        get.url = server.url("/v1/models");
        get.headers = {{"Accept", "application/json"}};
        get.timeouts = timeouts();
        client.start(get, getRec.callbacks());
        QVERIFY(loop.runUntil([&] { return getRec.done(); }));
        const test::RawRequest gotGet = server.requests().back();
        QCOMPARE(gotGet.method, std::string("GET"));
        QVERIFY(gotGet.body.empty());
        QVERIFY2(gotGet.head.find("\r\nAccept: application/json\r\n") != std::string::npos,
                 gotGet.head.c_str());
        QVERIFY2(gotGet.head.find("Content-Type") == std::string::npos, gotGet.head.c_str());
    }

    void pauseHoldsDataAndIdleDeadline() {
        Server server(Server::Script{
            Server::send(Server::chunkedHead(200) + Server::chunk("a")),
            Server::wait(50ms),
            Server::send(Server::chunk("b")),
            Server::wait(50ms),
            Server::send(Server::chunk("c") + std::string(Server::kLastChunk)),
        });
        Loop loop;
        UpstreamClient client(loop.io(), plainHttpEngine());
        Recorder rec;
        std::shared_ptr<UpstreamCall> call;
        rec.afterHead = [&] { call->pause(); };
        call = client.start(post(server.url(), timeouts(5000ms, 200ms)), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return rec.heads == 1; }));
        loop.runFor(700ms); // well past idle: a paused call must not time out, nor deliver
        QVERIFY(!rec.done());
        QCOMPARE(rec.chunks.size(), std::size_t(0));
        call->resume();
        QCOMPARE(rec.chunks.size(), std::size_t(0)); // never from inside resume()
        QVERIFY(loop.runUntil([&] { return rec.done(); }));
        QVERIFY2(rec.result.ok(), rec.result.message.c_str());
        QCOMPARE(rec.body, std::string("abc"));

        // Pausing from inside onData holds the rest until resume().
        Recorder rec2;
        std::shared_ptr<UpstreamCall> call2;
        rec2.afterChunk = [&](std::string_view) {
            if (rec2.chunks.size() == 1) call2->pause();
        };
        call2 = client.start(post(server.url(), timeouts(5000ms, 200ms)), rec2.callbacks());
        QVERIFY(loop.runUntil([&] { return rec2.chunks.size() == 1; }));
        loop.runFor(500ms);
        QCOMPARE(rec2.chunks.size(), std::size_t(1));
        QVERIFY(!rec2.done());
        call2->resume();
        QVERIFY(loop.runUntil([&] { return rec2.done(); }));
        QVERIFY2(rec2.result.ok(), rec2.result.message.c_str());
        QCOMPARE(rec2.body, std::string("abc"));
    }

    void destroyingTheClientMidFlightIsSafe() {
        Server server(Server::Script{
            Server::send(Server::chunkedHead(200) + Server::chunk("data: a\n\n")),
            Server::hang(),
        });
        Loop loop;
        auto client = std::make_unique<UpstreamClient>(loop.io());
        constexpr int kCalls = 5;
        std::vector<Recorder> recs(kCalls);
        std::vector<std::shared_ptr<UpstreamCall>> calls;
        for (int i = 0; i < kCalls; ++i)
            calls.push_back(client->start(post(server.url()), recs[i].callbacks()));
        QVERIFY(loop.runUntil([&] {
            return std::all_of(recs.begin(), recs.end(),
                               [](const Recorder& r) { return r.chunks.size() == 1; });
        }));
        client.reset();
        for (auto& call : calls) { // handles outlive the client: harmless no-ops
            call->pause();
            call->resume();
            call->cancel();
            QVERIFY(call->finished());
        }
        QVERIFY(loop.runUntil([&] { return server.connectionsClosedByClient() == kCalls; }, 5s));
        loop.runFor(200ms);
        for (const Recorder& r : recs) {
            QCOMPARE(r.dones, 0); // no callbacks after destruction
            QCOMPARE(r.chunks.size(), std::size_t(1));
        }
    }

    void destroyingTheClientFromItsOwnCallbackIsSafe() {
        Server server(Server::Script{
            Server::send(Server::chunkedHead(200) + Server::chunk("data: a\n\n")),
            Server::wait(50ms),
            Server::send(Server::chunk("data: b\n\n")),
            Server::hang(),
        });
        Loop loop;
        auto client = std::make_unique<UpstreamClient>(loop.io());
        Recorder rec;
        Recorder other;
        rec.afterChunk = [&](std::string_view) { client.reset(); };
        client->start(post(server.url()), other.callbacks());
        client->start(post(server.url()), rec.callbacks());
        QVERIFY(loop.runUntil([&] { return !client; }));
        QVERIFY(loop.runUntil([&] { return server.connectionsClosedByClient() == 2; }, 5s));
        loop.runFor(200ms);
        QCOMPARE(rec.chunks.size(), std::size_t(1));
        QCOMPARE(rec.dones, 0);
        QCOMPARE(other.dones, 0);
    }
};

QTEST_GUILESS_MAIN(TestUpstream)
#include "test_upstream.moc"
