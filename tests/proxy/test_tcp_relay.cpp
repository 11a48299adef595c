// The fault relay the fleet tests put in front of Redis: each mode does to a real connection what it says,
// with an echo server upstream and plain POSIX sockets as the client.
#include "TcpRelay.h"

#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace fusebox::test;
using namespace std::chrono_literals;

namespace {

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// An echo server, one thread per connection (a handful at most in these tests).
class EchoServer {
  public:
    EchoServer() {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        auto a = loopback(0);
        ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(m_fd, 16);
        socklen_t len = sizeof a;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len);
        m_port = ntohs(a.sin_port);
        m_acceptor = std::thread([this] {
            for (;;) {
                const int c = ::accept(m_fd, nullptr, nullptr);
                if (c < 0) return; // shut down
                m_workers.emplace_back([c] {
                    char buf[4096];
                    for (;;) {
                        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                        if (n <= 0 || ::send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
                    }
                    ::close(c);
                });
            }
        });
    }
    ~EchoServer() { stop(); }
    void stop() {
        if (m_fd < 0) return;
        ::shutdown(m_fd, SHUT_RDWR);
        ::close(m_fd);
        m_fd = -1;
        m_acceptor.join();
        for (auto& w : m_workers)
            w.detach(); // each ends when its client closes
    }
    uint16_t port() const { return m_port; }

  private:
    int m_fd = -1;
    uint16_t m_port = 0;
    std::thread m_acceptor;
    std::vector<std::thread> m_workers;
};

// A client connection; -1 errno when connect failed.
struct Client {
    int fd = -1;
    int connectErrno = 0;
    explicit Client(uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        auto a = loopback(port);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            connectErrno = errno;
            ::close(fd);
            fd = -1;
        }
    }
    ~Client() {
        if (fd >= 0) ::close(fd);
    }
    bool connected() const { return fd >= 0; }
    bool send(const std::string& s) const {
        return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size());
    }
    // Reads until `want` bytes came, the peer closed (sets `eof`), or `limit` passed.
    std::string read(std::size_t want, std::chrono::milliseconds limit, bool* eof = nullptr) const {
        std::string got;
        const auto end = std::chrono::steady_clock::now() + limit;
        while (got.size() < want) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char buf[4096];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                if (eof) *eof = true;
                break;
            }
            got.append(buf, static_cast<size_t>(n));
        }
        return got;
    }
};

} // namespace

class TestTcpRelay : public QObject {
    Q_OBJECT

  private slots:
    void passRelaysBothWays() {
        EchoServer echo;
        TcpRelay relay(echo.port());
        Client c(relay.port());
        QVERIFY(c.connected());
        QVERIFY(c.send("PING\r\n"));
        QCOMPARE(c.read(6, 5s), std::string("PING\r\n"));
        QCOMPARE(relay.connectionsAccepted(), 1);
        QCOMPARE(relay.connectionsOpen(), 1);
        QCOMPARE(relay.bytesToUpstream(), 6LL);
        QTRY_COMPARE(relay.bytesFromUpstream(), 6LL);
        QCOMPARE(relay.url(2), "redis://127.0.0.1:" + std::to_string(relay.port()) + "/2");
    }

    void delayHoldsEachDirection() {
        EchoServer echo;
        TcpRelay relay(echo.port());
        relay.delay(150ms);
        Client c(relay.port());
        const auto t0 = std::chrono::steady_clock::now();
        QVERIFY(c.send("slow"));
        QCOMPARE(c.read(4, 10s), std::string("slow"));
        // Held on the way there and on the way back: a lower bound, which no slow machine can break.
        QVERIFY(std::chrono::steady_clock::now() - t0 >= 300ms);
        relay.pass();
        QVERIFY(c.send("fast"));
        QCOMPARE(c.read(4, 5s), std::string("fast"));
    }

    void blackHoleAcceptsHoldsAndDeliversOnPass() {
        EchoServer echo;
        TcpRelay relay(echo.port());
        Client before(relay.port());
        QVERIFY(before.send("a"));
        QCOMPARE(before.read(1, 5s), std::string("a"));
        relay.blackHole();
        QVERIFY(before.send("held"));
        Client during(relay.port()); // a new connection is accepted too, and hears nothing
        QVERIFY(during.connected());
        QVERIFY(during.send("new"));
        bool eof = false;
        QCOMPARE(before.read(4, 400ms, &eof), std::string());
        QCOMPARE(during.read(3, 100ms, &eof), std::string());
        QVERIFY(!eof);
        QCOMPARE(relay.bytesToUpstream(), 1LL);
        relay.pass();
        QCOMPARE(before.read(4, 5s), std::string("held"));
        QCOMPARE(during.read(3, 5s), std::string("new"));
    }

    void cutClosesOpenAndNewConnections() {
        EchoServer echo;
        TcpRelay relay(echo.port());
        Client open(relay.port());
        QVERIFY(open.send("x"));
        QCOMPARE(open.read(1, 5s), std::string("x"));
        relay.cut();
        bool eof = false;
        open.read(1, 5s, &eof);
        QVERIFY(eof);
        QCOMPARE(relay.connectionsOpen(), 0);
        Client next(relay.port()); // accepted, then closed
        QVERIFY(next.connected());
        eof = false;
        next.read(1, 5s, &eof);
        QVERIFY(eof);
        relay.pass();
        Client after(relay.port());
        QVERIFY(after.send("y"));
        QCOMPARE(after.read(1, 5s), std::string("y"));
    }

    void closeAllIsABlip() {
        EchoServer echo;
        TcpRelay relay(echo.port());
        Client open(relay.port());
        QVERIFY(open.send("x"));
        QCOMPARE(open.read(1, 5s), std::string("x"));
        relay.closeAll();
        bool eof = false;
        open.read(1, 5s, &eof);
        QVERIFY(eof);
        QVERIFY(relay.mode() == TcpRelay::Mode::Pass);
        Client again(relay.port());
        QVERIFY(again.send("z"));
        QCOMPARE(again.read(1, 5s), std::string("z"));
    }

    void refuseStopsListeningOnTheSamePort() {
        EchoServer echo;
        TcpRelay relay(echo.port());
        const uint16_t port = relay.port();
        Client open(port);
        QVERIFY(open.send("x"));
        QCOMPARE(open.read(1, 5s), std::string("x"));
        relay.refuse();
        bool eof = false;
        open.read(1, 5s, &eof);
        QVERIFY(eof);
        Client refused(port);
        QVERIFY(!refused.connected());
        QCOMPARE(refused.connectErrno, ECONNREFUSED);
        relay.pass();
        QCOMPARE(relay.port(), port);
        Client back(port);
        QVERIFY(back.connected());
        QVERIFY(back.send("w"));
        QCOMPARE(back.read(1, 5s), std::string("w"));
    }

    void deadUpstreamEndsTheClientsConnection() {
        auto echo = std::make_unique<EchoServer>();
        TcpRelay relay(echo->port());
        echo.reset(); // nothing listens upstream now
        Client c(relay.port());
        QVERIFY(c.connected());
        bool eof = false;
        c.read(1, 5s, &eof);
        QVERIFY(eof);
        QTRY_COMPARE(relay.connectionsOpen(), 0);
    }
};

QTEST_GUILESS_MAIN(TestTcpRelay)
#include "test_tcp_relay.moc"
