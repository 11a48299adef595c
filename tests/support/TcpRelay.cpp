#include "TcpRelay.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <deque>
#include <future>
#include <optional>
#include <set>
#include <thread>

namespace fusebox::test {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace relay {
struct Session;
}

// Everything below runs on the relay's one thread, so sessions and the mode need no lock; the public calls
// post onto that thread and wait, which makes a mode change take effect before setMode returns.
struct TcpRelay::Impl {
    asio::io_context io; // first: the sockets and timers below need it to outlive them
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::optional<tcp::acceptor> acceptor;
    tcp::endpoint upstream;
    uint16_t listenPort = 0;
    std::atomic<Mode> mode{Mode::Pass};
    std::chrono::milliseconds delay{0};
    std::set<std::shared_ptr<relay::Session>> sessions;
    int listenGeneration = 0; // an accept loop ends when the acceptor it started on was closed or replaced
    std::atomic<int> accepted{0};
    std::atomic<int> open{0};
    std::atomic<long long> toUpstream{0};
    std::atomic<long long> fromUpstream{0};
    std::thread thread;

    void listen(); // (re)opens the acceptor on listenPort
    void accept();
    void closeSessions();
    void applyMode(Mode next, std::chrono::milliseconds d);
    template <typename F> void runOnThread(F&& f);
};

namespace relay {

struct Chunk {
    std::string bytes;
    Clock::time_point due;
};

// One direction of a relayed connection: reads from `from`, queues, writes to `to` when the mode lets it.
struct Pipe {
    explicit Pipe(asio::io_context& io) : timer(io) {}
    std::deque<Chunk> queue;
    bool writing = false;
    asio::steady_timer timer;
    std::array<char, 16384> buffer{};
};

struct Session : std::enable_shared_from_this<Session> {
    Session(TcpRelay::Impl& r, tcp::socket c)
        : relay(r), client(std::move(c)), server(r.io), toServer(r.io), toClient(r.io) {}

    TcpRelay::Impl& relay;
    tcp::socket client;
    tcp::socket server;
    Pipe toServer;
    Pipe toClient;
    bool closed = false;

    void start() {
        server.async_connect(relay.upstream, [self = shared_from_this()](boost::system::error_code ec) {
            if (ec) return self->close(); // upstream gone: the client sees its connection end, as a dead host
            self->read(self->client, self->toServer, self->server, self->relay.toUpstream);
            self->read(self->server, self->toClient, self->client, self->relay.fromUpstream);
        });
    }

    void read(tcp::socket& from, Pipe& pipe, tcp::socket& to, std::atomic<long long>& counter) {
        from.async_read_some(
            asio::buffer(pipe.buffer), [self = shared_from_this(), &from, &pipe, &to,
                                        &counter](boost::system::error_code ec, std::size_t n) {
                if (ec || self->closed) return self->close();
                const auto delay = self->relay.mode == TcpRelay::Mode::Delay ? self->relay.delay
                                                                             : std::chrono::milliseconds(0);
                pipe.queue.push_back({std::string(pipe.buffer.data(), n), Clock::now() + delay});
                self->kick(pipe, to, counter);
                self->read(from, pipe, to, counter);
            });
    }

    // Writes the queue's head when it is due, unless the relay is black-holing (then the bytes wait).
    void kick(Pipe& pipe, tcp::socket& to, std::atomic<long long>& counter) {
        if (closed || pipe.writing || pipe.queue.empty() || relay.mode == TcpRelay::Mode::BlackHole) return;
        pipe.writing = true;
        if (pipe.queue.front().due > Clock::now()) {
            pipe.timer.expires_at(pipe.queue.front().due);
            pipe.timer.async_wait(
                [self = shared_from_this(), &pipe, &to, &counter](boost::system::error_code ec) {
                    pipe.writing = false;
                    if (!ec) self->kick(pipe, to, counter);
                });
            return;
        }
        asio::async_write(
            to, asio::buffer(pipe.queue.front().bytes),
            [self = shared_from_this(), &pipe, &to, &counter](boost::system::error_code ec, std::size_t n) {
                pipe.writing = false;
                if (ec) return self->close();
                counter += static_cast<long long>(n);
                pipe.queue.pop_front();
                self->kick(pipe, to, counter);
            });
    }

    void resume() {
        kick(toServer, server, relay.toUpstream);
        kick(toClient, client, relay.fromUpstream);
    }

    void close() {
        if (closed) return;
        closed = true;
        boost::system::error_code ignored;
        client.close(ignored);
        server.close(ignored);
        toServer.timer.cancel();
        toClient.timer.cancel();
        --relay.open;
        relay.sessions.erase(shared_from_this());
    }
};

} // namespace relay

using relay::Session;

template <typename F> void TcpRelay::Impl::runOnThread(F&& f) {
    std::promise<void> done;
    asio::post(io, [&] {
        f();
        done.set_value();
    });
    done.get_future().wait();
}

void TcpRelay::Impl::listen() {
    acceptor.emplace(io);
    ++listenGeneration;
    const tcp::endpoint at(asio::ip::address_v4::loopback(), listenPort);
    acceptor->open(at.protocol());
    // The port is given back and taken again by Refuse; connections from before may still be in TIME_WAIT.
    acceptor->set_option(asio::socket_base::reuse_address(true));
    acceptor->bind(at);
    acceptor->listen();
    listenPort = acceptor->local_endpoint().port();
    accept();
}

void TcpRelay::Impl::accept() {
    acceptor->async_accept(
        [this, generation = listenGeneration](boost::system::error_code ec, tcp::socket socket) {
            // A closed (Refuse) or replaced acceptor ends its own loop; only the live one accepts again.
            if (!acceptor || generation != listenGeneration || !acceptor->is_open()) return;
            if (!ec) {
                ++accepted;
                if (mode == Mode::Cut) {
                    boost::system::error_code ignored;
                    socket.close(ignored);
                } else {
                    auto session = std::make_shared<Session>(*this, std::move(socket));
                    sessions.insert(session);
                    ++open;
                    session->start();
                }
            }
            accept();
        });
}

void TcpRelay::Impl::closeSessions() {
    auto all = sessions; // close() erases from the set
    for (const auto& s : all)
        s->close();
}

void TcpRelay::Impl::applyMode(Mode next, std::chrono::milliseconds d) {
    const Mode before = mode;
    delay = d;
    mode = next;
    if (next == Mode::Cut || next == Mode::Refuse) closeSessions();
    if (next == Mode::Refuse && acceptor) {
        boost::system::error_code ignored;
        acceptor->close(ignored);
        acceptor.reset();
    }
    if (before == Mode::Refuse && next != Mode::Refuse) listen();
    if (next == Mode::Pass || next == Mode::Delay)
        for (const auto& s : sessions)
            s->resume();
}

TcpRelay::TcpRelay(uint16_t upstreamPort, uint16_t listenPort) : m_impl(std::make_shared<Impl>()) {
    m_impl->upstream = tcp::endpoint(asio::ip::address_v4::loopback(), upstreamPort);
    m_impl->listenPort = listenPort;
    m_impl->listen(); // before the thread: a bind error throws here, in the test that made the relay
    m_impl->thread = std::thread([impl = m_impl.get()] { impl->io.run(); });
}

TcpRelay::~TcpRelay() {
    Impl& impl = *m_impl;
    asio::post(impl.io, [&impl] {
        impl.closeSessions();
        if (impl.acceptor) {
            boost::system::error_code ignored;
            impl.acceptor->close(ignored);
        }
        impl.work.reset(); // run() returns once the aborted handlers have run
    });
    impl.thread.join();
    impl.acceptor.reset();
}

uint16_t TcpRelay::port() const {
    return m_impl->listenPort;
}

std::string TcpRelay::url(int db) const {
    return "redis://127.0.0.1:" + std::to_string(port()) + "/" + std::to_string(db);
}

void TcpRelay::setMode(Mode mode, std::chrono::milliseconds delay) {
    m_impl->runOnThread([this, mode, delay] { m_impl->applyMode(mode, delay); });
}

void TcpRelay::closeAll() {
    m_impl->runOnThread([this] { m_impl->closeSessions(); });
}

TcpRelay::Mode TcpRelay::mode() const {
    return m_impl->mode;
}
int TcpRelay::connectionsAccepted() const {
    return m_impl->accepted;
}
int TcpRelay::connectionsOpen() const {
    return m_impl->open;
}
long long TcpRelay::bytesToUpstream() const {
    return m_impl->toUpstream;
}
long long TcpRelay::bytesFromUpstream() const {
    return m_impl->fromUpstream;
}

} // namespace fusebox::test
