#include "proxy/ProxyServer.h"

#include "core/Log.h"
#include "proxy/UpstreamClient.h"

#include <boost/asio/post.hpp>

#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <future>
#include <thread>

namespace fusebox {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// Descriptors kept back from the connection cap: the listener, the journal, curl's resolver, logs, the console.
constexpr int64_t kReservedDescriptors = 64;

// Raises the soft descriptor limit to the hard one (as nginx's worker_rlimit_nofile does): 1,000 streams need
// 2,000 descriptors, more than Debian's default soft limit of 1,024. Returns the soft limit in force.
int64_t raiseDescriptorLimit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
    const rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : std::min<rlim_t>(limit.rlim_max, 1 << 20);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        rlimit raised = limit;
        raised.rlim_cur = wanted;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY ? int64_t{1} << 20 : static_cast<int64_t>(limit.rlim_cur);
}

// The answer to a connection past the cap, written raw (no session is made for it). Its path is unknown, so it
// is in the OpenAI shape, which most clients read.
constexpr std::string_view kTooManyConnections =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    "Connection: close\r\nServer: fusebox\r\nContent-Length: 184\r\n\r\n"
    R"({"error":{"message":"Fusebox serves as many connections as it can now (limits.max_connections); retry shortly.","type":"fusebox_overloaded","param":null,"code":"too_many_connections"}})";

// A request's client is watched for a departure from 10-20 ms after its request arrived (DeferredWatches).
constexpr std::chrono::milliseconds kDisconnectWatchDelay{10};

} // namespace

ProxyServer::ProxyServer(int ioThreads, RequestHandler& handler, const Limits& limits)
    : m_handler(handler), m_configuredMaxConnections(limits.maxConnections), m_pool(ioThreads),
      m_acceptor(m_pool.context(0)), m_acceptRetry(m_pool.context(0)) {
    for (std::size_t i = 0; i < m_pool.size(); ++i) {
        m_upstreams.push_back(std::make_unique<UpstreamClient>(m_pool.context(i)));
        m_watches.push_back(std::make_unique<DeferredWatches>(m_pool.context(i), kDisconnectWatchDelay));
        m_services.push_back(std::make_unique<SessionServices>(
            SessionServices{m_handler, *m_upstreams.back(), limits.maxBodyBytes, limits.maxHeaderBytes,
                            m_requestsInFlight, m_connections, *m_watches.back()}));
    }
}

ProxyServer::~ProxyServer() { stop(std::chrono::milliseconds(0)); }

bool ProxyServer::listen(const std::string& host, uint16_t port, std::string& error) {
    boost::system::error_code ec;
    tcp::resolver resolver(m_pool.context(0));
    auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
        error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + (ec ? ec.message() : "no address");
        return false;
    }
    const tcp::endpoint endpoint = results.begin()->endpoint();
    m_acceptor.open(endpoint.protocol(), ec);
    if (!ec) m_acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) m_acceptor.bind(endpoint, ec);
    if (!ec) m_acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message();
        m_acceptor.close(ec);
        return false;
    }
    m_host = endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]" : endpoint.address().to_string();
    // Each client connection may hold an upstream connection too: half the descriptors left, so that Fusebox
    // refuses a client cleanly before it runs out of sockets for providers.
    const int64_t descriptors = raiseDescriptorLimit();
    m_maxConnections = m_configuredMaxConnections > 0
                           ? m_configuredMaxConnections
                           : std::max<int64_t>(16, (descriptors - kReservedDescriptors) / 2);
    m_port = m_acceptor.local_endpoint().port();
    m_accepting = true;
    net::post(m_acceptor.get_executor(), [this] { accept(); });
    m_pool.start();
    return true;
}

void ProxyServer::accept() {
    if (!m_accepting) return;
    const std::size_t index = m_pool.nextIndex();
    m_acceptor.async_accept(m_pool.context(index), [this, index](boost::system::error_code ec, tcp::socket socket) {
        if (!m_accepting) return;
        if (!ec && m_connections.load(std::memory_order_relaxed) >= m_maxConnections) {
            refuseConnection(socket);
        } else if (!ec) {
            auto session = std::make_shared<ClientSession>(std::move(socket), *m_services[index]);
            net::post(session->executor(), [session] { session->start(); });
        } else if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
                   ec == boost::system::errc::too_many_files_open_in_system ||
                   ec == net::error::no_memory) {
            // The pending connection stays in the backlog; accepting again at once would fail the same way in
            // a tight loop. Give the sessions a moment to release descriptors.
            Log::throttled(LogLevel::Error, "accept failed", std::chrono::seconds(10), "accept failed",
                           {{"error", ec.message()}});
            m_acceptRetry.expires_after(std::chrono::milliseconds(50));
            m_acceptRetry.async_wait([this](boost::system::error_code waitError) {
                if (!waitError) accept();
            });
            return;
        }
        accept();
    });
}

void ProxyServer::refuseConnection(tcp::socket& socket) {
    Log::throttled(LogLevel::Warn, "connection cap", std::chrono::seconds(10),
                   "connection refused: limits.max_connections reached",
                   {{"max_connections", std::to_string(m_maxConnections)}});
    // Best effort and never blocking: a client that does not read it still gets its connection closed.
    [[maybe_unused]] const auto sent =
        ::send(socket.native_handle(), kTooManyConnections.data(), kTooManyConnections.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

int64_t ProxyServer::stop(std::chrono::milliseconds drain) {
    if (m_accepting.exchange(false)) {
        std::promise<void> closed;
        net::post(m_acceptor.get_executor(), [this, &closed] {
            boost::system::error_code ec;
            m_acceptor.close(ec);
            m_acceptRetry.cancel();
            closed.set_value();
        });
        closed.get_future().wait_for(std::chrono::seconds(5));
    }
    const auto deadline = std::chrono::steady_clock::now() + drain;
    while (m_requestsInFlight.load() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int64_t left = m_requestsInFlight.load();
    m_pool.stop();
    return left;
}

} // namespace fusebox
