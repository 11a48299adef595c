#pragma once
// The plain-HTTP side of one UpstreamClient: kept-alive connections to http:// providers, and the calls in flight
// (so that closing the client can silence them). One per io_context, single-threaded like the client.
//
// Why a client of our own for http:// at all: a breaker-guarded hop to a local model server (or a test or
// benchmark upstream) is paid on every agent turn. libcurl's per-request work and its two poll() calls per
// request cost more than the rest of the proxy's; an HTTP/1.1 exchange on the I/O thread's own Asio loop costs
// one write and one read. https:// (TLS, HTTP/2) and any proxied URL stay with libcurl.
#include "proxy/PlainHttpUrl.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <memory>
#include <vector>

namespace fusebox {

class PlainHttpCall;

class PlainHttpPool {
  public:
    explicit PlainHttpPool(boost::asio::io_context& io) : m_io(io) {}
    PlainHttpPool(const PlainHttpPool&) = delete;
    PlainHttpPool& operator=(const PlainHttpPool&) = delete;

    boost::asio::io_context& io() { return m_io; }
    bool closed() const { return m_closed; }

    // The most recently parked connection to `key` (PlainHttpUrl::poolKey), if any is younger than
    // kIdleLifetime. One the server has closed meanwhile is found out by the call, which then retries once on a
    // new connection (as libcurl does with a dead reused connection).
    std::optional<boost::asio::ip::tcp::socket> takeIdle(const std::string& key);
    // Parks a connection whose last response ended cleanly, for the next call to the same key.
    void parkIdle(const std::string& key, boost::asio::ip::tcp::socket socket);

    // parsePlainHttpUrl, remembered: a provider's few URLs come back with every request.
    const std::optional<PlainHttpUrl>& parsedUrl(const std::string& url);

    void callStarted(const std::shared_ptr<PlainHttpCall>& call);
    void callEnded(PlainHttpCall* call);
    std::size_t callsInFlight() const { return m_calls.size(); }

    // Closes every parked connection and silences every call in flight (no callback runs after this returns).
    void close();

    // Servers drop idle keep-alive connections after 5 s (Node, uvicorn) to 75 s (nginx); a reused dead one
    // costs a retry, one older than this is not tried at all.
    static constexpr std::chrono::seconds kIdleLifetime{60};
    // Parked connections per key at most, per I/O thread. A burst of agents' streams ends with as many idle
    // connections as it had streams; keeping them (as libcurl's connection cache did, and nginx with a large
    // keepalive) spares the next burst a connect each. More concurrency than this opens new ones.
    static constexpr std::size_t kIdlePerKey = 1024;

  private:
    struct Idle {
        boost::asio::ip::tcp::socket socket;
        std::chrono::steady_clock::time_point since;
    };

    boost::asio::io_context& m_io;
    std::unordered_map<std::string, std::vector<Idle>> m_idle;
    std::unordered_map<PlainHttpCall*, std::weak_ptr<PlainHttpCall>> m_calls;
    std::unordered_map<std::string, std::optional<PlainHttpUrl>> m_urls;
    bool m_closed = false;
};

} // namespace fusebox
