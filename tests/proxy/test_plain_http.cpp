// What only the loop's own plain-HTTP client does (test_upstream holds it and libcurl to the same behaviour):
// which URLs it takes, HTTP/1.x framings libcurl handled for us, when a connection is parked for reuse, the one
// retry of a dead parked connection, name resolution, and that a proxy in the environment hands http:// back to
// libcurl. Real loopback sockets, a scripted raw-TCP server.
#include "proxy/PlainHttpUrl.h"
#include "proxy/UpstreamClient.h"

#include "RawHttpServer.h"
#include "UpstreamHarness.h"

#include <QtTest>

#include <atomic>

using namespace fusebox;
using namespace fusebox::test;
using Server = RawHttpServer;

namespace {

// One request on `client`, run to its end.
Recorder runOne(Loop& loop, UpstreamClient& client, UpstreamRequest request) {
    Recorder rec;
    client.start(std::move(request), rec.callbacks());
    loop.runUntil([&] { return rec.done(); });
    return rec;
}

} // namespace

class TestPlainHttp : public QObject {
    Q_OBJECT

  private slots:
    void urlsItTakes() {
        const auto full = parsePlainHttpUrl("http://127.0.0.1:8080/v1/chat/completions?x=1#part");
        QVERIFY(full);
        QCOMPARE(full->host, std::string("127.0.0.1"));
        QCOMPARE(int(full->port), 8080);
        QCOMPARE(full->target, std::string("/v1/chat/completions?x=1"));
        QCOMPARE(full->hostHeader, std::string("127.0.0.1:8080"));

        const auto bare = parsePlainHttpUrl("HTTP://Models.Example");
        QVERIFY(bare);
        QCOMPARE(int(bare->port), 80);
        QCOMPARE(bare->target, std::string("/"));
        QCOMPARE(bare->hostHeader, std::string("Models.Example"));

        const auto query = parsePlainHttpUrl("http://h?q=1");
        QVERIFY(query);
        QCOMPARE(query->target, std::string("/?q=1"));

        const auto v6 = parsePlainHttpUrl("http://[::1]:9/v1");
        QVERIFY(v6);
        QCOMPARE(v6->host, std::string("::1"));
        QCOMPARE(v6->hostHeader, std::string("[::1]:9"));
        QVERIFY(v6->poolKey != full->poolKey);
    }

    void urlsLeftToLibcurl() {
        for (const char* url : {"https://api.example/v1", "http://user:secret@h/v1", "http://h:0/", "http://h:99999/",
                                "http://h:/x", "http:///x", "http://a b/", "http://h/\x7f", "http://[zz]/",
                                "http://[::1/", "ftp://h/", "http://", "http://h\xc3\xa9/"}) {
            QVERIFY2(!parsePlainHttpUrl(url), url);
        }
    }

    // HTTP/1.0 style: no length, the body ends with the connection; such a connection is not parked.
    void bodyRunsToTheEndOfTheConnection() {
        Server server(Server::Script{Server::send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"),
                                     Server::close()});
        Loop loop;
        UpstreamClient client(loop.io());
        for (int i = 0; i < 2; ++i) {
            const Recorder rec = runOne(loop, client, post(server.url()));
            QVERIFY2(rec.result.ok(), rec.result.message.c_str());
            QCOMPARE(rec.body, std::string("until the end"));
        }
        QCOMPARE(server.connectionsAccepted(), 2);
    }

    void connectionCloseIsNotParked() {
        Server server(Server::Script{Server::send(Server::response(200, "ok", {{"Connection", "close"}}))});
        Loop loop;
        UpstreamClient client(loop.io());
        for (int i = 0; i < 2; ++i)
            QVERIFY(runOne(loop, client, post(server.url())).result.ok());
        QCOMPARE(server.connectionsAccepted(), 2);
    }

    // Bytes after a whole answer are no answer to anything: that connection is not trusted again.
    void bytesAfterTheAnswerAreNotReused() {
        Server server(Server::Script{Server::send(Server::response(200, "ok") + "HTTP/1.1 200 OK\r\n")});
        Loop loop;
        UpstreamClient client(loop.io());
        for (int i = 0; i < 2; ++i) {
            const Recorder rec = runOne(loop, client, post(server.url()));
            QVERIFY2(rec.result.ok(), rec.result.message.c_str());
            QCOMPARE(rec.body, std::string("ok"));
        }
        QCOMPARE(server.connectionsAccepted(), 2);
    }

    void headAnswerHasNoBodyAndKeepsTheConnection() {
        Server server([](const RawRequest& r) {
            if (r.method == "HEAD") return Server::Script{Server::send(Server::head(200, {{"Content-Length", "10"}}))};
            return Server::Script{Server::send(Server::response(200, "ok"))};
        });
        Loop loop;
        UpstreamClient client(loop.io());
        UpstreamRequest head = post(server.url());
        head.method = "HEAD";
        head.body.clear();
        const Recorder first = runOne(loop, client, head);
        QVERIFY2(first.result.ok(), first.result.message.c_str());
        QCOMPARE(first.result.status, 200);
        QVERIFY(first.body.empty());
        const Recorder second = runOne(loop, client, post(server.url()));
        QCOMPARE(second.body, std::string("ok"));
        QCOMPARE(server.connectionsAccepted(), 1);
    }

    void trailersAreNotHeaders() {
        Server server(Server::Script{Server::send(Server::chunkedHead(200) + Server::chunk("data: a\n\n") +
                                                  "0\r\nX-Trailer: t\r\n\r\n")});
        Loop loop;
        UpstreamClient client(loop.io());
        const Recorder rec = runOne(loop, client, post(server.url()));
        QVERIFY2(rec.result.ok(), rec.result.message.c_str());
        QVERIFY(!rec.head.header("x-trailer"));
        QCOMPARE(rec.body, std::string("data: a\n\n"));
    }

    // A parked connection the server closed is found out by the next request, which goes out once more on a new
    // connection; a second failure there is the provider's answer, not retried again.
    void deadParkedConnectionIsRetriedOnce() {
        std::atomic<int> seen{0};
        Server server([&](const RawRequest&) {
            const int n = ++seen;
            if (n == 1) return Server::Script{Server::send(Server::response(200, "ok")), Server::wait(30ms), Server::close()};
            return Server::Script{Server::close()};
        });
        Loop loop;
        UpstreamClient client(loop.io());
        QVERIFY(runOne(loop, client, post(server.url("/first"))).result.ok());
        loop.runFor(150ms); // the server closes the parked connection meanwhile
        const Recorder second = runOne(loop, client, post(server.url("/second")));
        QCOMPARE(name(second.result.error), name(TransportError::BadResponse));
        QVERIFY2(second.result.message.starts_with("bad response: empty reply"), second.result.message.c_str());
        QCOMPARE(server.connectionsAccepted(), 2);
        const auto requests = server.requests();
        QCOMPARE(int(requests.size()), 2); // the second request arrived once, on the new connection
        QCOMPARE(requests.back().target, std::string("/second"));
        QCOMPARE(requests.back().connection, 2);
    }

    // A name, not an address: resolved, and each address tried in turn ("localhost" may be ::1 first, where the
    // server does not listen).
    void namedHostIsResolved() {
        Server server(Server::Script{Server::send(Server::response(200, "named"))});
        Loop loop;
        UpstreamClient client(loop.io());
        const Recorder rec = runOne(loop, client, post("http://localhost:" + std::to_string(server.port()) + "/v1"));
        QVERIFY2(rec.result.ok(), rec.result.message.c_str());
        QCOMPARE(rec.body, std::string("named"));
        const auto requests = server.requests();
        QCOMPARE(int(requests.size()), 1);
        QVERIFY2(requests.front().head.find("\r\nHost: localhost:" + std::to_string(server.port()) + "\r\n") !=
                     std::string::npos,
                 requests.front().head.c_str());
    }

    void unknownHostIsConnectError() {
        Loop loop;
        UpstreamClient client(loop.io());
        const Recorder rec = runOne(loop, client, post("http://no-such-host.invalid/v1"));
        QCOMPARE(name(rec.result.error), name(TransportError::Connect));
        QVERIFY2(rec.result.message.starts_with("connect error: cannot resolve host 'no-such-host.invalid'"),
                 rec.result.message.c_str());
    }

    // With a proxy in the environment, libcurl carries http:// too (it knows no_proxy and proxy authentication):
    // the proxy receives the request in absolute form.
    void proxyInTheEnvironmentGoesThroughLibcurl() {
        Server proxy(Server::Script{Server::send(Server::response(200, "via proxy"))});
        const std::string origin = "http://127.0.0.1:" + std::to_string(unusedLoopbackPort()) + "/v1/x";
        qputenv("http_proxy", QByteArray::fromStdString(proxy.url()));
        Loop loop;
        UpstreamClient client(loop.io());
        const Recorder rec = runOne(loop, client, post(origin));
        qunsetenv("http_proxy");
        QVERIFY2(rec.result.ok(), rec.result.message.c_str());
        QCOMPARE(rec.body, std::string("via proxy"));
        const auto requests = proxy.requests();
        QCOMPARE(int(requests.size()), 1);
        QCOMPARE(requests.front().target, origin);
    }
};

QTEST_GUILESS_MAIN(TestPlainHttp)
#include "test_plain_http.moc"
