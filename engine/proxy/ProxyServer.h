#pragma once
// The proxy port: accepts connections and hands each to a ClientSession on one of the I/O threads, round-robin.
// Stopping drains: no new connections, then wait (up to a limit) for the requests in flight to end.
//
// NOTE: it owns the I/O threads, and its members are declared so they die in a safe order: the acceptor and the
// upstream clients while their io_contexts still exist, then the contexts (whose queued handlers may still hold
// sessions), and only then the per-thread services those sessions point to.
#include "config/Config.h"
#include "proxy/ClientSession.h"
#include "proxy/IoPool.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace fusebox {

class UpstreamClient;

class ProxyServer {
public:
    ProxyServer(int ioThreads, RequestHandler& handler, const Limits& limits);
    ~ProxyServer();

    // Binds and starts accepting. Returns false with `error` set ("cannot listen on ...: address in use").
    bool listen(const std::string& host, uint16_t port, std::string& error);
    uint16_t port() const { return m_port; }
    std::string host() const { return m_host; }
    int64_t requestsInFlight() const { return m_requestsInFlight.load(); }
    int64_t connections() const { return m_connections.load(); }
    // Client connections served at once; past it a new one gets a 503 and is closed (README "Limits").
    int64_t maxConnections() const { return m_maxConnections; }

    // Stops accepting, waits up to `drain` for requests in flight to end, then stops the I/O threads.
    // Returns how many requests were still in flight. Idempotent.
    int64_t stop(std::chrono::milliseconds drain);

private:
    void accept();
    void refuseConnection(boost::asio::ip::tcp::socket& socket);

    RequestHandler& m_handler;
    std::atomic<int64_t> m_requestsInFlight{0};
    std::atomic<int64_t> m_connections{0};
    int64_t m_maxConnections = 0;
    int64_t m_configuredMaxConnections = 0;
    std::vector<std::unique_ptr<SessionServices>> m_services;
    IoPool m_pool;
    std::vector<std::unique_ptr<UpstreamClient>> m_upstreams; // one per I/O thread
    std::vector<std::unique_ptr<DeferredWatches>> m_watches;  // one per I/O thread (before the pool goes)
    boost::asio::ip::tcp::acceptor m_acceptor;
    boost::asio::steady_timer m_acceptRetry; // out of descriptors: wait a little before accepting again
    std::atomic<bool> m_accepting{false};
    std::string m_host;
    uint16_t m_port = 0;
};

} // namespace fusebox
