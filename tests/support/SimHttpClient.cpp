#include "SimHttpClient.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <limits>

namespace fusebox::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using Clock = std::chrono::steady_clock;

// Not boost::none: Beast 1.74 compares a Content-Length against an empty optional as "over the limit".
constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();

double msSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

template <class Fields> Headers headersOf(const Fields& fields) {
    Headers headers;
    for (const auto& field : fields)
        headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    return headers;
}

SseEvent parseBlock(std::string_view block) {
    SseEvent event;
    bool haveData = false;
    while (!block.empty()) {
        const std::size_t end = block.find('\n');
        std::string_view line = block.substr(0, end);
        block = end == std::string_view::npos ? std::string_view{} : block.substr(end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == ':') continue;
        const std::size_t colon = line.find(':');
        const std::string_view name = line.substr(0, colon);
        std::string_view value =
            colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (name == "event") event.event = std::string(value);
        if (name == "data") {
            if (haveData) event.data += '\n';
            event.data += value;
            haveData = true;
        }
    }
    return event;
}

} // namespace

std::string HttpReply::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (beast::iequals(key, name)) return value;
    return {};
}

bool HttpReply::hasHeader(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [name](const auto& h) { return beast::iequals(h.first, name); });
}

std::vector<SseEvent> parseSse(std::string_view text) {
    std::vector<SseEvent> events;
    for (std::size_t end; (end = text.find("\n\n")) != std::string_view::npos; text.remove_prefix(end + 2))
        events.push_back(parseBlock(text.substr(0, end)));
    return events;
}

SimHttpClient::SimHttpClient(uint16_t port, std::chrono::milliseconds timeout)
    : m_stream(m_ioc), m_port(port), m_timeout(timeout) {}

SimHttpClient::~SimHttpClient() {
    close();
}

template <class Start> SimHttpClient::ErrorCode SimHttpClient::runOp(Start&& start) {
    ErrorCode result = net::error::timed_out;
    // tcp_stream closes the socket when the deadline passes, which completes the operation with `timeout`.
    m_stream.expires_after(m_timeout);
    start([&result](ErrorCode ec) { result = ec; });
    m_ioc.restart();
    m_ioc.run();
    m_stream.expires_never();
    return result;
}

bool SimHttpClient::isOpen() const {
    return m_stream.socket().is_open();
}

void SimHttpClient::close() {
    ErrorCode ignored;
    m_stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    m_stream.socket().close(ignored);
    m_buffer.clear();
}

bool SimHttpClient::ensureConnected(std::string& error) {
    if (isOpen()) return true;
    m_buffer.clear();
    const net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), m_port);
    const ErrorCode ec = runOp([&](auto done) { m_stream.async_connect(endpoint, done); });
    if (ec) {
        error = "connect: " + ec.message();
        close();
        return false;
    }
    ++m_connections;
    return true;
}

bool SimHttpClient::sendRequest(http::verb method, const std::string& target, const std::string& body,
                                const Headers& headers, std::string& error) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1:" + std::to_string(m_port));
    request.set(http::field::user_agent, "fusebox-test");
    if (!body.empty()) request.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : headers)
        request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    // A kept-alive connection the server has since closed fails on first use: retry once on a fresh one.
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = isOpen();
        if (!ensureConnected(error)) return false;
        const ErrorCode ec = runOp([&](auto done) {
            http::async_write(m_stream, request, [done](ErrorCode e, std::size_t) { done(e); });
        });
        if (!ec) return true;
        close();
        error = "write: " + ec.message();
        if (!reused) return false;
    }
    return false;
}

HttpReply SimHttpClient::request(http::verb method, const std::string& target, const std::string& body,
                                 const Headers& headers) {
    HttpReply reply;
    if (!sendRequest(method, target, body, headers, reply.error)) return reply;
    return readReply();
}

// The status line and headers of an answer whose header has been read.
void SimHttpClient::takeHead(HttpReply& reply, const http::response<http::string_body>& response) {
    reply.status = static_cast<int>(response.result_int());
    reply.headers = headersOf(response);
}

// The body, and the connection's fate: closed after an error or when the server will not keep it alive.
void SimHttpClient::finishReply(HttpReply& reply, const std::string& body, bool keepAlive, ErrorCode ec) {
    reply.body = body;
    if (ec) {
        reply.error = ec.message();
        close();
    } else if (!keepAlive) {
        close();
    }
}

HttpReply SimHttpClient::readReply() {
    HttpReply reply;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kNoBodyLimit);
    const ErrorCode ec = runOp([&](auto done) {
        http::async_read(m_stream, m_buffer, parser, [done](ErrorCode e, std::size_t) { done(e); });
    });
    if (parser.is_header_done()) takeHead(reply, parser.get());
    finishReply(reply, parser.get().body(), parser.get().keep_alive(), ec);
    return reply;
}

StreamReply SimHttpClient::stream(const std::string& target, const std::string& body, const Headers& headers,
                                  const std::function<bool(const SseEvent&)>& onEvent) {
    StreamReply reply;
    if (!sendRequest(http::verb::post, target, body, headers, reply.error)) return reply;
    const auto start = Clock::now();
    http::response_parser<http::string_body> parser;
    parser.body_limit(kNoBodyLimit);
    ErrorCode ec = runOp([&](auto done) {
        http::async_read_header(m_stream, m_buffer, parser, [done](ErrorCode e, std::size_t) { done(e); });
    });
    reply.headersAtMs = msSince(start);
    if (parser.is_header_done()) takeHead(reply, parser.get());
    std::size_t consumed = 0;
    while (!ec && !parser.is_done()) {
        ec = runOp([&](auto done) {
            http::async_read_some(m_stream, m_buffer, parser, [done](ErrorCode e, std::size_t) { done(e); });
        });
        // The events completed by this read share one arrival time: the client could not see them earlier.
        const std::string& text = parser.get().body();
        for (std::size_t end; (end = text.find("\n\n", consumed)) != std::string::npos; consumed = end + 2) {
            SseEvent event = parseBlock(std::string_view(text).substr(consumed, end - consumed));
            event.atMs = msSince(start);
            reply.events.push_back(event);
            if (onEvent && !onEvent(reply.events.back())) {
                reply.clientClosed = true;
                reply.body = text;
                close();
                return reply;
            }
        }
    }
    finishReply(reply, parser.get().body(), parser.get().keep_alive(), ec);
    return reply;
}

bool SimHttpClient::writeRaw(const std::string& bytes) {
    std::string error;
    if (!ensureConnected(error)) return false;
    return !runOp([&](auto done) {
        net::async_write(m_stream, net::buffer(bytes), [done](ErrorCode e, std::size_t) { done(e); });
    });
}

std::string SimHttpClient::readRawUntil(std::string_view delimiter) {
    // Not net::async_read_until: it takes a v1 dynamic buffer by value, so it would read into a copy of
    // m_buffer and the bytes would never reach ours.
    for (;;) {
        const std::string seen = beast::buffers_to_string(m_buffer.data());
        if (const std::size_t at = seen.find(delimiter); at != std::string::npos) {
            m_buffer.consume(at + delimiter.size());
            return seen.substr(0, at + delimiter.size());
        }
        const ErrorCode ec = runOp([&](auto done) {
            m_stream.async_read_some(m_buffer.prepare(4096), [this, done](ErrorCode e, std::size_t n) {
                m_buffer.commit(n);
                done(e);
            });
        });
        if (ec) return {};
    }
}

} // namespace fusebox::test
