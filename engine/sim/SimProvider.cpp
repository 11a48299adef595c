#include "sim/SimProvider.h"

#include "sim/SimSession.h"
#include "sim/SimState.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

namespace fusebox::sim {

namespace net = boost::asio;
using Tcp = net::ip::tcp;

namespace {

// When accept fails for a reason that may pass (EMFILE under a 1,000-stream benchmark), try again shortly
// rather than stop accepting for good.
constexpr Millis kAcceptRetry{50};

std::string urlHostOf(const net::ip::address& address) {
    if (address.is_unspecified()) return address.is_v6() ? "[::1]" : "127.0.0.1";
    if (address.is_v6()) return "[" + address.to_string() + "]";
    return address.to_string();
}

} // namespace

class SimProvider::Server {
  public:
    explicit Server(Options options) : state(std::make_shared<SimState>(std::move(options))) {}

    bool start();
    void stop();

    const std::shared_ptr<SimState> state;
    mutable std::mutex mutex; // start/stop and what they set
    std::string error;
    std::string urlHost = "127.0.0.1";
    uint16_t port = 0;

    bool running() const {
        std::lock_guard lock(mutex);
        return m_ioc != nullptr;
    }

  private:
    bool listen(std::string& why);
    void accept();

    std::unique_ptr<net::io_context> m_ioc;
    std::unique_ptr<Tcp::acceptor> m_acceptor;
    std::unique_ptr<net::steady_timer> m_acceptRetry;
    std::vector<std::thread> m_threads;
};

bool SimProvider::Server::start() {
    std::lock_guard lock(mutex);
    if (m_ioc) return true;
    const int threads = std::max(1, state->options.threads);
    m_ioc = std::make_unique<net::io_context>(threads);
    std::string why;
    if (!listen(why)) {
        error =
            "fusebox sim: cannot listen on " + state->options.host + ":" + std::to_string(port) + ": " + why;
        m_acceptor.reset();
        m_ioc.reset();
        return false;
    }
    error.clear();
    m_acceptRetry = std::make_unique<net::steady_timer>(*m_ioc);
    accept();
    for (int i = 0; i < threads; ++i)
        m_threads.emplace_back([ioc = m_ioc.get()] {
            // A handler that throws must not end the thread while the provider is meant to be up.
            for (;;) {
                try {
                    ioc->run();
                    return;
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "fusebox sim: handler threw: %s\n", e.what());
                }
            }
        });
    return true;
}

bool SimProvider::Server::listen(std::string& why) {
    const Options& options = state->options;
    boost::system::error_code ec;
    net::ip::address address = net::ip::make_address(options.host, ec);
    if (ec) {
        Tcp::resolver resolver(*m_ioc);
        const auto results = resolver.resolve(options.host, "", ec);
        if (ec || results.empty()) {
            why = ec ? ec.message() : "no address";
            return false;
        }
        address = results.begin()->endpoint().address();
    }
    // After a stop(), come back on the same port, so clients configured with our URL find us again.
    if (options.port != 0) port = options.port;
    const Tcp::endpoint endpoint(address, port);
    m_acceptor = std::make_unique<Tcp::acceptor>(*m_ioc);
    m_acceptor->open(endpoint.protocol(), ec);
    if (!ec) m_acceptor->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) m_acceptor->bind(endpoint, ec);
    if (!ec) m_acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        why = ec.message();
        return false;
    }
    port = m_acceptor->local_endpoint().port();
    urlHost = urlHostOf(address);
    return true;
}

void SimProvider::Server::accept() {
    // Each connection gets its own strand: with several threads its handlers still never run concurrently.
    m_acceptor->async_accept(
        net::make_strand(*m_ioc), [this](boost::system::error_code ec, Tcp::socket socket) {
            if (ec == net::error::operation_aborted) return;
            if (ec) {
                m_acceptRetry->expires_after(kAcceptRetry);
                m_acceptRetry->async_wait([this](boost::system::error_code waitError) {
                    if (!waitError) accept();
                });
                return;
            }
            state->counters.connectionsAccepted.fetch_add(1, std::memory_order_relaxed);
            boost::system::error_code ignored;
            socket.set_option(Tcp::no_delay(true), ignored); // SSE events are small and must leave at once
            std::make_shared<SimSession>(std::move(socket), state)->start();
            accept();
        });
}

void SimProvider::Server::stop() {
    std::lock_guard lock(mutex);
    if (!m_ioc) return;
    // Stopping the loop, then destroying it, destroys every pending handler and with them every connection
    // (each is owned only by its handlers): hung and streaming clients see their socket close, nothing waits.
    m_ioc->stop();
    for (auto& thread : m_threads)
        thread.join();
    m_threads.clear();
    m_acceptRetry.reset();
    m_acceptor.reset();
    m_ioc.reset();
}

// ---- SimProvider ------------------------------------------------------------------------------------------

SimProvider::SimProvider(Options options) : m_server(std::make_unique<Server>(std::move(options))) {}

SimProvider::~SimProvider() {
    stop();
}

bool SimProvider::start() {
    return m_server->start();
}
void SimProvider::stop() {
    m_server->stop();
}
bool SimProvider::running() const {
    return m_server->running();
}

std::string SimProvider::lastError() const {
    std::lock_guard lock(m_server->mutex);
    return m_server->error;
}

uint16_t SimProvider::port() const {
    std::lock_guard lock(m_server->mutex);
    return m_server->port;
}

std::string SimProvider::openaiBaseUrl() const {
    return anthropicBaseUrl() + "/v1";
}

std::string SimProvider::anthropicBaseUrl() const {
    std::lock_guard lock(m_server->mutex);
    return "http://" + m_server->urlHost + ":" + std::to_string(m_server->port);
}

void SimProvider::setFault(Fault fault) {
    m_server->state->faults.set(std::move(fault));
}
void SimProvider::clearFault() {
    m_server->state->faults.clear();
}
std::optional<Fault> SimProvider::fault() const {
    return m_server->state->faults.current();
}

Stats SimProvider::stats() const {
    return m_server->state->stats();
}
std::vector<RecordedRequest> SimProvider::recentRequests() const {
    return m_server->state->recent();
}
void SimProvider::resetStats() {
    m_server->state->resetCumulative();
}
const Options& SimProvider::options() const {
    return m_server->state->options;
}

} // namespace fusebox::sim
