#pragma once
// A small blocking HTTP/1.1 client for tests against real sockets (the sim provider, the proxy): keep-alive,
// every wait bounded by a timeout, and streamed answers read event by event with arrival times.
//
// Blocking from the caller's point of view; inside, each step is an async Beast operation run on the client's
// own io_context with a deadline, because a plain blocking read on an asio socket cannot time out.
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fusebox::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
    int status = 0;
    Headers headers;
    std::string body;
    std::string
        error; // empty when a complete response was read; else why not ("timeout", "end of stream", ...)

    bool complete() const { return error.empty(); }
    std::string header(std::string_view name) const; // case-insensitive; "" when absent
    bool hasHeader(std::string_view name) const;
};

struct SseEvent {
    std::string event; // the `event:` field, "" when absent
    std::string data;  // `data:` lines joined by '\n'
    double atMs = 0;   // arrival, from the moment the request was written
};

struct StreamReply : HttpReply {
    std::vector<SseEvent> events;
    double headersAtMs = 0;
    bool clientClosed = false; // the onEvent callback asked to stop, and the client closed its socket
};

class SimHttpClient {
  public:
    explicit SimHttpClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    ~SimHttpClient();
    SimHttpClient(const SimHttpClient&) = delete;
    SimHttpClient& operator=(const SimHttpClient&) = delete;

    void setTimeout(std::chrono::milliseconds timeout) { m_timeout = timeout; }

    // Sends one request on the kept-alive connection (opening one when needed) and reads the whole answer.
    HttpReply request(boost::beast::http::verb method, const std::string& target,
                      const std::string& body = {}, const Headers& headers = {});
    HttpReply post(const std::string& target, const std::string& body, const Headers& headers = {}) {
        return request(boost::beast::http::verb::post, target, body, headers);
    }
    HttpReply get(const std::string& target, const Headers& headers = {}) {
        return request(boost::beast::http::verb::get, target, {}, headers);
    }

    // Sends a request and reads its answer as SSE, event by event. onEvent returning false makes the client
    // close its socket right there, as an agent that gives up mid-stream would.
    StreamReply stream(const std::string& target, const std::string& body, const Headers& headers = {},
                       const std::function<bool(const SseEvent&)>& onEvent = {});

    // Raw access, for protocol corners (Expect: 100-continue, pipelining).
    bool writeRaw(const std::string& bytes);
    std::string readRawUntil(std::string_view delimiter); // "" on timeout or close
    HttpReply readReply();

    void close();
    bool isOpen() const;
    int connectionsOpened() const { return m_connections; }

  private:
    using ErrorCode = boost::beast::error_code;
    bool ensureConnected(std::string& error);
    bool sendRequest(boost::beast::http::verb method, const std::string& target, const std::string& body,
                     const Headers& headers, std::string& error);
    // Starts an async operation through `start(done)` and runs the loop until it calls done(ec) or times out.
    template <class Start> ErrorCode runOp(Start&& start);
    static void takeHead(HttpReply& reply, const boost::beast::http::response<boost::beast::http::string_body>& response);
    void finishReply(HttpReply& reply, const std::string& body, bool keepAlive, ErrorCode ec);

    boost::asio::io_context m_ioc;
    boost::beast::tcp_stream m_stream;
    boost::beast::flat_buffer m_buffer;
    uint16_t m_port;
    std::chrono::milliseconds m_timeout;
    int m_connections = 0;
};

// Splits SSE text into events (blank-line separated); a trailing incomplete event is left out.
std::vector<SseEvent> parseSse(std::string_view text);

} // namespace fusebox::test
