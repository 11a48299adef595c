#include "proxy/ProxyServer.h"

#include "core/Log.h"
#include "proxy/UpstreamClient.h"

#include <boost/asio/post.hpp>

#include <future>
#include <thread>

namespace fusebox {

namespace net = boost::asio;
using tcp = net::ip::tcp;

ProxyServer::ProxyServer(int ioThreads, RequestHandler& handler, int64_t maxBodyBytes, int64_t maxHeaderBytes)
    : m_handler(handler), m_pool(ioThreads), m_acceptor(m_pool.context(0)),
      m_acceptRetry(m_pool.context(0)) {
    for (std::size_t i = 0; i < m_pool.size(); ++i) {
        m_upstreams.push_back(std::make_unique<UpstreamClient>(m_pool.context(i)));
        m_services.push_back(std::make_unique<SessionServices>(
            SessionServices{m_handler, *m_upstreams.back(), maxBodyBytes, maxHeaderBytes, m_requestsInFlight}));
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
        if (!ec) {
            auto session = std::make_shared<ClientSession>(std::move(socket), *m_services[index]);
            net::post(session->executor(), [session] { session->start(); });
        } else if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
                   ec == boost::system::errc::too_many_files_open_in_system ||
                   ec == net::error::no_memory) {
            // The pending connection stays in the backlog; accepting again at once would fail the same way in
            // a tight loop. Give the sessions a moment to release descriptors.
            Log::error("accept failed", {{"error", ec.message()}});
            m_acceptRetry.expires_after(std::chrono::milliseconds(50));
            m_acceptRetry.async_wait([this](boost::system::error_code waitError) {
                if (!waitError) accept();
            });
            return;
        }
        accept();
    });
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
