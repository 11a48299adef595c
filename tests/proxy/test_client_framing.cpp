// How a client's bytes become requests (ClientSession reads and parses the header itself, and a body already in
// its buffer without another read): requests pipelined in one write, a header and body trickled in small pieces,
// a header the client cuts off, a connection closed between requests. Real sockets, byte for byte.
#include "ProxyRig.h"
#include "SimRequests.h"
#include "TestSupport.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <QtTest>

#include <chrono>
#include <string>
#include <thread>

using namespace fusebox;
using namespace fusebox::test;
using nlohmann::json;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

const char* kConfig = R"({
  "providers": [{"id": "gpt", "kind": "openai", "base_url": "${SIM0}", "api_key": "sim-key"}],
  "routes": [{"name": "default", "targets": [{"provider": "gpt"}]}]
})";

std::string chatPost(const std::string& text, bool close = false) {
    const std::string body = chatRequest(text).dump();
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: fusebox\r\nContent-Type: application/json\r\n" +
           std::string(close ? "Connection: close\r\n" : "") + "Content-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

// A blocking client socket on the proxy's port.
struct RawClient {
    net::io_context io;
    tcp::socket socket{io};

    explicit RawClient(uint16_t port) { socket.connect(tcp::endpoint(net::ip::address_v4::loopback(), port)); }

    void send(const std::string& bytes) { net::write(socket, net::buffer(bytes)); }
    // Everything the proxy sends until it closes the connection (or `limit` passes).
    std::string readToEnd(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
        std::string out;
        const auto until = std::chrono::steady_clock::now() + limit;
        socket.non_blocking(true);
        char buffer[4096];
        while (std::chrono::steady_clock::now() < until) {
            boost::system::error_code ec;
            const std::size_t n = socket.read_some(net::buffer(buffer), ec);
            if (n > 0) out.append(buffer, n);
            if (ec == net::error::would_block) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                continue;
            }
            if (ec) break; // eof or reset: the proxy is done with us
        }
        return out;
    }
};

int countOf(const std::string& text, const std::string& what) {
    int n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

} // namespace

class ClientFramingTest : public QObject {
    Q_OBJECT
    std::unique_ptr<ProxyRig> rig;

private slots:
    void init() {
        rig = std::make_unique<ProxyRig>(kConfig, 1, quickSimOptions(3));
        QVERIFY2(rig->ok(), rig->error().c_str());
    }
    void cleanup() { rig.reset(); }

    void requestsPipelinedInOneWriteAreEachAnswered() {
        RawClient client(rig->port());
        client.send(chatPost("one") + chatPost("two") + chatPost("three", true));
        const std::string answers = client.readToEnd();
        QCOMPARE(countOf(answers, "HTTP/1.1 200 OK\r\n"), 3);
        QCOMPARE(countOf(answers, "x-request-id: "), 3);
        QCOMPARE(rig->requestsAt(0, "/v1/chat/completions"), 3);
    }

    void aHeaderAndBodyTrickledInPiecesAreRead() {
        RawClient client(rig->port());
        const std::string request = chatPost("slowly", true);
        const std::size_t headerEnd = request.find("\r\n\r\n") + 4;
        for (std::size_t at = 0; at < headerEnd; at += 7) {
            client.send(request.substr(at, std::min<std::size_t>(7, headerEnd - at)));
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // the header is parsed; the body is not here
        client.send(request.substr(headerEnd, 10));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        client.send(request.substr(headerEnd + 10));
        const std::string answer = client.readToEnd();
        QVERIFY2(answer.starts_with("HTTP/1.1 200 OK\r\n"), answer.c_str());
        QCOMPARE(rig->requestsAt(0, "/v1/chat/completions"), 1);
    }

    void aHeaderCutOffByTheClientIsA400AndNothingMore() {
        RawClient client(rig->port());
        client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: fusebox\r\nContent-Ty");
        client.socket.shutdown(tcp::socket::shutdown_send);
        const std::string answer = client.readToEnd();
        QVERIFY2(answer.starts_with("HTTP/1.1 400 "), answer.c_str());
        QVERIFY2(answer.find("partial message") != std::string::npos, answer.c_str());
        QCOMPARE(rig->requestsAt(0, "/v1/chat/completions"), 0);
        QCOMPARE(rig->ordinaryChatStatus(), 200); // still serves
    }

    void aClientLeavingAtOnceStillCancelsTheUpstreamCall() {
        // The departure watch starts a moment after a request arrives (DeferredWatches); a client gone before
        // that is found by it all the same, and the provider, hanging, is let go.
        rig->sim(0).setFault(sim::Fault::hang());
        {
            RawClient client(rig->port());
            client.send(chatPost("never mind"));
            QTRY_COMPARE(rig->sim(0).stats().hanging, int64_t{1});
        } // closed at once
        QTRY_COMPARE(rig->engine().snapshot().findProvider("gpt")->breaker.window.count(Outcome::Cancelled), 1u);
        QTRY_COMPARE(rig->sim(0).stats().hanging, int64_t{0});
        QTRY_COMPARE(rig->engine().requestsInFlight(), int64_t{0});
        rig->sim(0).clearFault();
        QCOMPARE(rig->ordinaryChatStatus(), 200); // still serves
    }

    void aClientLeavingBetweenRequestsIsQuiet() {
        {
            RawClient client(rig->port());
            client.send(chatPost("only one"));
            std::string answer;
            while (countOf(answer, "}") == 0 || answer.find("\r\n\r\n") == std::string::npos) {
                char buffer[4096];
                const std::size_t n = client.socket.read_some(net::buffer(buffer));
                answer.append(buffer, n);
            }
            QVERIFY(answer.starts_with("HTTP/1.1 200 OK\r\n"));
        } // closed here, with the connection kept alive on the proxy's side
        QCOMPARE(rig->ordinaryChatStatus(), 200); // still serves
        QCOMPARE(rig->requestsAt(0, "/v1/chat/completions"), 2);
    }
};

QTEST_GUILESS_MAIN(ClientFramingTest)
#include "test_client_framing.moc"
