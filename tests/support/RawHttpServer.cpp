#include "RawHttpServer.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <thread>

namespace fusebox::test {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

std::string lowerCase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::size_t contentLength(const std::string& head) {
    const std::string lower = lowerCase(head);
    const auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return std::stoul(lower.substr(at + 17));
}

const char* reasonPhrase(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

} // namespace

struct RawHttpServer::Impl {
    explicit Impl(Handler h)
        : handler(std::move(h)), acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {}

    asio::awaitable<void> acceptLoop();
    asio::awaitable<void> serve(tcp::socket socket, int connection);
    asio::awaitable<bool> play(tcp::socket& socket, const Script& script); // false: the connection is over

    Handler handler;
    asio::io_context io; // before the acceptor and the sessions' sockets, which it outlives
    tcp::acceptor acceptor;
    std::thread thread;
    std::atomic<int> accepted{0};
    std::atomic<int> closedByClient{0};
    mutable std::mutex mutex;
    std::vector<RawRequest> requests;
};

asio::awaitable<void> RawHttpServer::Impl::acceptLoop() {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;
        const int connection = ++accepted;
        asio::co_spawn(io, serve(std::move(socket), connection), asio::detached);
    }
}

asio::awaitable<void> RawHttpServer::Impl::serve(tcp::socket socket, int connection) {
    std::string buffer;
    boost::system::error_code ec;
    for (;;) { // one request after another on this connection
        const std::size_t headSize = co_await asio::async_read_until(
            socket, asio::dynamic_buffer(buffer), "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            ++closedByClient;
            co_return;
        }
        RawRequest request;
        request.connection = connection;
        request.head = buffer.substr(0, headSize);
        buffer.erase(0, headSize);
        const auto firstSpace = request.head.find(' ');
        const auto secondSpace = request.head.find(' ', firstSpace + 1);
        request.method = request.head.substr(0, firstSpace);
        request.target = request.head.substr(firstSpace + 1, secondSpace - firstSpace - 1);
        const std::size_t length = contentLength(request.head);
        if (buffer.size() < length) {
            co_await asio::async_read(socket, asio::dynamic_buffer(buffer),
                                      asio::transfer_exactly(length - buffer.size()),
                                      asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                ++closedByClient;
                co_return;
            }
        }
        request.body = buffer.substr(0, length);
        buffer.erase(0, length);
        {
            std::lock_guard lock(mutex);
            requests.push_back(request);
        }
        const Script script = handler(request);
        if (!co_await play(socket, script)) co_return;
    }
}

asio::awaitable<bool> RawHttpServer::Impl::play(tcp::socket& socket, const Script& script) {
    boost::system::error_code ec;
    asio::steady_timer timer(io);
    for (const Step& step : script) {
        switch (step.kind) {
        case Step::Kind::Send:
            co_await asio::async_write(socket, asio::buffer(step.bytes),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                ++closedByClient;
                co_return false;
            }
            break;
        case Step::Kind::Wait:
            timer.expires_after(step.delay);
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            break;
        case Step::Kind::WaitUntil: {
            const auto deadline = std::chrono::steady_clock::now() + step.delay;
            while (!step.condition() && std::chrono::steady_clock::now() < deadline) {
                timer.expires_after(2ms);
                co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
            break;
        }
        case Step::Kind::Run:
            step.action();
            break;
        case Step::Kind::Hang: {
            char sink[4096];
            do {
                co_await socket.async_read_some(asio::buffer(sink),
                                                asio::redirect_error(asio::use_awaitable, ec));
            } while (!ec);
            ++closedByClient;
            co_return false;
        }
        case Step::Kind::Close:
            socket.shutdown(tcp::socket::shutdown_both, ec);
            socket.close(ec);
            co_return false;
        }
    }
    co_return true;
}

RawHttpServer::Step RawHttpServer::send(std::string bytes) {
    Step step;
    step.kind = Step::Kind::Send;
    step.bytes = std::move(bytes);
    return step;
}

RawHttpServer::Step RawHttpServer::wait(std::chrono::milliseconds delay) {
    Step step;
    step.kind = Step::Kind::Wait;
    step.delay = delay;
    return step;
}

RawHttpServer::Step RawHttpServer::waitUntil(std::function<bool()> condition,
                                             std::chrono::milliseconds limit) {
    Step step;
    step.kind = Step::Kind::WaitUntil;
    step.condition = std::move(condition);
    step.delay = limit;
    return step;
}

RawHttpServer::Step RawHttpServer::run(std::function<void()> action) {
    Step step;
    step.kind = Step::Kind::Run;
    step.action = std::move(action);
    return step;
}

RawHttpServer::Step RawHttpServer::hang() {
    Step step;
    step.kind = Step::Kind::Hang;
    return step;
}

RawHttpServer::Step RawHttpServer::close() {
    Step step;
    step.kind = Step::Kind::Close;
    return step;
}

RawHttpServer::RawHttpServer(Handler handler) : m_impl(std::make_unique<Impl>(std::move(handler))) {
    asio::co_spawn(m_impl->io, m_impl->acceptLoop(), asio::detached);
    m_impl->thread = std::thread([impl = m_impl.get()] { impl->io.run(); });
}

RawHttpServer::RawHttpServer(Script script)
    : RawHttpServer(Handler([script = std::move(script)](const RawRequest&) { return script; })) {}

RawHttpServer::~RawHttpServer() {
    m_impl->io.stop();
    m_impl->thread.join();
}

uint16_t RawHttpServer::port() const {
    return m_impl->acceptor.local_endpoint().port();
}

std::string RawHttpServer::url(std::string_view pathAndQuery) const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(pathAndQuery);
}

int RawHttpServer::connectionsAccepted() const {
    return m_impl->accepted.load();
}

int RawHttpServer::connectionsClosedByClient() const {
    return m_impl->closedByClient.load();
}

std::vector<RawRequest> RawHttpServer::requests() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->requests;
}

std::string RawHttpServer::head(int status, const Headers& headers) {
    std::string text = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
    for (const auto& [name, value] : headers)
        text += name + ": " + value + "\r\n";
    return text + "\r\n";
}

std::string RawHttpServer::response(int status, std::string_view body, const Headers& headers) {
    Headers all = headers;
    all.emplace_back("Content-Length", std::to_string(body.size()));
    return head(status, all) + std::string(body);
}

std::string RawHttpServer::chunkedHead(int status, std::string_view contentType) {
    return head(status, {{"Content-Type", std::string(contentType)}, {"Transfer-Encoding", "chunked"}});
}

std::string RawHttpServer::chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + std::string(data) + "\r\n";
}

uint16_t unusedLoopbackPort() {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    return acceptor.local_endpoint().port(); // closed on return: connecting to it is refused
}

} // namespace fusebox::test
