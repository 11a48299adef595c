#include "proxy/PlainHttpCall.h"

#include "proxy/PlainHttpPool.h"
#include "proxy/UpstreamHeaders.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace fusebox {


namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

// One read takes what the kernel holds, up to this: an event stream's pieces are far smaller.
constexpr std::size_t kReadSize = 16 * 1024;

// socket() failing for want of this machine's resources: not the provider's failure (see CurlMulti).
bool isLocalResourceError(const error_code& ec) {
    if (ec.category() != boost::system::system_category()) return false;
    const int e = ec.value();
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

// What a dead parked connection says when used: the server closed it while it idled.
bool isDeadConnection(const error_code& ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted;
}

} // namespace

PlainHttpCall::PlainHttpCall(const std::shared_ptr<PlainHttpPool>& pool, PlainHttpUrl url, UpstreamRequest request,
                             UpstreamCallbacks callbacks)
    : m_pool(pool), m_io(pool->io()), m_url(std::move(url)), m_request(std::move(request)),
      m_callbacks(std::move(callbacks)), m_deadlines(m_io, m_request.timeouts, m_request.stream) {}

PlainHttpCall::~PlainHttpCall() {
    if (auto pool = m_pool.lock()) pool->callEnded(this);
}

void PlainHttpCall::begin() {
    auto pool = m_pool.lock();
    if (!pool || pool->closed()) {
        m_state = State::Gone;
        return;
    }
    pool->callStarted(shared_from_this());
    m_deadlines.start(weak_from_this(), [this](std::string message) { finish(TransportError::Timeout, std::move(message)); });
    if (!isHttpToken(m_request.method)) {
        failSoon(TransportError::Local, "cannot set up the request: invalid HTTP method '" + m_request.method + "'");
        return;
    }
    m_head = requestHead();
    if (auto parked = pool->takeIdle(m_url.poolKey)) {
        m_socket.emplace(std::move(*parked));
        m_reused = true;
        send();
        return;
    }
    connectNew();
}

bool PlainHttpCall::sendsBody() const {
    return m_request.method != "GET" && m_request.method != "HEAD";
}

// A parser for the next response; an answer to HEAD has a length but no body.
void PlainHttpCall::startResponse() {
    m_parser.emplace(*this);
    if (m_request.method == "HEAD") m_parser->skip(true);
}

std::string PlainHttpCall::requestHead() const {
    // Sized first, then written with plain copies: appending piece by piece (some 30 pieces) cost more than the
    // rest of building the request.
    const std::string& method = m_request.method;
    const std::string body = sendsBody() ? std::to_string(m_request.body.size()) : std::string();
    std::size_t bound = method.size() + m_url.target.size() + m_url.hostHeader.size() + body.size() + 64;
    for (const auto& [name, value] : m_request.headers)
        bound += name.size() + value.size() + 4;
    std::string head(bound, '\0');
    char* out = head.data();
    const auto put = [&out](std::string_view piece) {
        std::memcpy(out, piece.data(), piece.size());
        out += piece.size();
    };
    put(method);
    put(" ");
    put(m_url.target);
    put(" HTTP/1.1\r\nHost: ");
    put(m_url.hostHeader);
    put("\r\n");
    forEachForwardedHeader(m_request.headers, [&put](std::string_view name, std::string_view value) {
        put(name);
        put(": ");
        put(value);
        put("\r\n");
    });
    if (sendsBody()) {
        put("Content-Length: ");
        put(body);
        put("\r\n");
    }
    put("\r\n");
    head.resize(static_cast<std::size_t>(out - head.data()));
    return head;
}

void PlainHttpCall::connectNew() {
    m_reused = false;
    m_deadlines.watchConnect(m_url.host + " port " + std::to_string(m_url.port));
    error_code ec;
    const auto address = asio::ip::make_address(m_url.host, ec);
    if (!ec) {
        connectTo({tcp::endpoint(address, m_url.port)}, 0);
        return;
    }
    m_resolver.emplace(m_io);
    m_resolver->async_resolve(
        m_url.host, std::to_string(m_url.port),
        [self = shared_from_this(), connection = m_connection](const error_code& ec, tcp::resolver::results_type found) {
            if (self->m_state != State::Running || connection != self->m_connection) return;
            if (ec) {
                self->finish(TransportError::Connect,
                             "connect error: cannot resolve host '" + self->m_url.host + "': " + ec.message());
                return;
            }
            std::vector<tcp::endpoint> endpoints;
            for (const auto& entry : found)
                endpoints.push_back(entry.endpoint());
            if (endpoints.empty()) {
                self->finish(TransportError::Connect,
                             "connect error: cannot resolve host '" + self->m_url.host + "': no address");
                return;
            }
            self->connectTo(std::move(endpoints), 0);
        });
}

// `endpoints` holds at least index + 1 addresses.
void PlainHttpCall::connectTo(std::vector<tcp::endpoint> endpoints, std::size_t index) {
    const tcp::endpoint endpoint = endpoints[index];
    m_socket.emplace(m_io);
    error_code ec;
    m_socket->open(endpoint.protocol(), ec);
    if (ec) {
        if (isLocalResourceError(ec)) {
            finish(TransportError::Local, "Fusebox could not open a socket: " + ec.message() +
                                              " (a limit of this machine, not the provider's failure)");
        } else {
            finish(TransportError::Connect, "connect error: cannot open a socket: " + ec.message());
        }
        return;
    }
    m_socket->set_option(tcp::no_delay(true), ec); // a request goes out whole at once; never wait for an ACK
    m_socket->async_connect(endpoint, [self = shared_from_this(), connection = m_connection,
                                       endpoints = std::move(endpoints), index](const error_code& ec) mutable {
        if (self->m_state != State::Running || connection != self->m_connection) return;
        if (ec) {
            if (index + 1 < endpoints.size()) {
                self->connectTo(std::move(endpoints), index + 1);
                return;
            }
            self->finish(TransportError::Connect, "connect error: cannot connect to " + self->m_url.host + " port " +
                                                      std::to_string(self->m_url.port) + ": " + ec.message());
            return;
        }
        self->m_deadlines.connected();
        self->send();
    });
}

void PlainHttpCall::send() {
    startResponse();
    m_buffer.clear();
    m_gotBytes = false;
    m_endOfStream = false;
    m_writeFailed = false;
    const std::array<asio::const_buffer, 2> pieces = {
        asio::buffer(m_head), sendsBody() ? asio::buffer(m_request.body) : asio::const_buffer()};
    m_writing = true;
    asio::async_write(*m_socket, pieces,
                      [self = shared_from_this(), connection = m_connection](const error_code& ec, std::size_t) {
                          if (connection != self->m_connection) return;
                          self->m_writing = false;
                          self->m_writeFailed = self->m_writeFailed || ec;
                          if (self->m_state != State::Running || !ec) return;
                          // An answer already under way (a server may answer before reading the whole body)
                          // decides the outcome; the read side reports its end.
                          if (self->m_gotBytes) return;
                          if (self->m_reused && isDeadConnection(ec) && self->retryOnNewConnection()) return;
                          self->finish(TransportError::BadResponse,
                                       "bad response: connection lost while sending the request: " + ec.message());
                      });
    // Read beside the write: an early answer (413, 401) is still read, and a parked connection the server closed
    // shows at once. The read starts from the event loop's next pass rather than here: started at once it finds
    // nothing yet (a system call that returns EAGAIN), while after the other handlers of a busy loop the answer is
    // often here already and read in that one call.
    asio::post(m_io, [self = shared_from_this(), connection = m_connection] {
        if (connection == self->m_connection) self->read();
    });
}

void PlainHttpCall::read() {
    if (m_reading || m_paused || m_state != State::Running || !m_socket) return;
    m_reading = true;
    m_socket->async_read_some(m_buffer.prepare(kReadSize),
                              [self = shared_from_this(), connection = m_connection](const error_code& ec,
                                                                                      std::size_t bytes) {
                                  if (connection != self->m_connection) return;
                                  self->m_reading = false;
                                  self->onRead(ec, bytes);
                              });
}

void PlainHttpCall::onRead(const error_code& ec, std::size_t bytes) {
    if (m_state != State::Running) return;
    if (bytes > 0) {
        m_buffer.commit(bytes);
        m_gotBytes = true;
        m_deadlines.firstByte();
        m_deadlines.data();
    }
    if (ec == asio::error::eof) {
        m_endOfStream = true;
    } else if (ec) {
        if (!m_gotBytes && m_reused && isDeadConnection(ec) && retryOnNewConnection()) return;
        finish(TransportError::BadResponse, "bad response: connection lost while reading the response: " + ec.message());
        return;
    }
    process();
}

void PlainHttpCall::process() {
    while (m_state == State::Running && !m_paused) {
        if (m_parser->is_done()) {
            complete();
            return;
        }
        if (m_buffer.size() == 0) break;
        error_code ec;
        const std::size_t used = m_parser->put(m_buffer.data(), ec);
        m_buffer.consume(used);
        if (!stillRunning()) return; // cancelled or silenced inside onData
        if (ec == http::error::need_more) break;
        if (ec) {
            finish(TransportError::BadResponse, "bad response: malformed HTTP response (" + ec.message() + ")");
            return;
        }
        if (m_parser->is_header_done() && !m_headDelivered) {
            if (m_parser->interim()) { // 100 Continue, 103 Early Hints: the real answer follows
                startResponse();
                continue;
            }
            if (!deliverHead()) return;
        }
    }
    if (m_state != State::Running || m_paused) return;
    if (m_endOfStream) {
        onEndOfStream();
        return;
    }
    read();
}

bool PlainHttpCall::deliverHead() {
    m_headDelivered = true;
    if (m_callbacks.onHead) {
        ++m_callbackDepth;
        m_callbacks.onHead(m_parser->head());
        --m_callbackDepth;
    }
    return stillRunning();
}

bool PlainHttpCall::onBodyPiece(std::string_view piece) {
    if (m_state != State::Running) return false;
    if (!m_headDelivered && !deliverHead()) return false;
    if (m_callbacks.onData) {
        ++m_callbackDepth;
        m_callbacks.onData(piece);
        --m_callbackDepth;
    }
    return m_state == State::Running; // (process() clears what a silenced call holds once the parser returns)
}

void PlainHttpCall::onEndOfStream() {
    if (m_parser->got_some() && m_parser->need_eof()) { // a body that runs to the end of the connection
        error_code ec;
        m_parser->put_eof(ec);
        if (!ec && m_parser->is_done()) {
            if (!m_headDelivered && !deliverHead()) return;
            finish(TransportError::None, {});
            return;
        }
    }
    if (!m_gotBytes) {
        if (m_reused && retryOnNewConnection()) return;
        finish(TransportError::BadResponse,
               "bad response: empty reply from the provider (the connection closed before any byte)");
        return;
    }
    finish(TransportError::BadResponse,
           "bad response: the provider closed the connection before the response was complete");
}

void PlainHttpCall::complete() {
    // Reusable: a kept-alive HTTP/1.1 answer, read to its end, the request fully written, nothing extra sent.
    const bool reusable =
        m_parser->keep_alive() && !m_writing && !m_writeFailed && !m_endOfStream && m_buffer.size() == 0;
    if (reusable) {
        if (auto pool = m_pool.lock()) pool->parkIdle(m_url.poolKey, std::move(*m_socket));
        m_socket.reset();
        ++m_connection; // no completion of this exchange may touch the parked connection
    }
    finish(TransportError::None, {});
}

bool PlainHttpCall::retryOnNewConnection() {
    if (m_retried || m_state != State::Running) return false;
    m_retried = true;
    dropConnection();
    connectNew();
    return true;
}

void PlainHttpCall::dropConnection() {
    ++m_connection;
    m_writing = m_reading = false;
    if (m_socket) {
        error_code ignored;
        m_socket->close(ignored); // pending operations complete as aborted, and find a newer m_connection
        m_socket.reset();
    }
    if (m_resolver) m_resolver->cancel();
    m_buffer.clear();
}

void PlainHttpCall::cancel() {
    if (m_state != State::Running) return;
    m_state = State::Cancelling; // from here on nothing is delivered
    m_deadlines.stop();          // so no deadline can win the race and report Timeout instead
    dropConnection();            // an HTTP/1.1 connection cannot be reused mid-response
    asio::post(m_io, [self = shared_from_this()] { self->finish(TransportError::Cancelled, "cancelled by the caller"); });
}

void PlainHttpCall::pause() {
    if (m_state != State::Running || m_paused) return;
    m_paused = true; // the read pending, if any, completes into the buffer; nothing is parsed until resume()
    m_deadlines.setPaused(true);
    m_holdWhilePaused = shared_from_this();
}

void PlainHttpCall::resume() {
    if (m_state != State::Running || !m_paused) return;
    m_paused = false;
    m_deadlines.setPaused(false);
    // Posted: resume() must not call onData itself.
    asio::post(m_io, [self = std::move(m_holdWhilePaused)] {
        if (self->m_state == State::Running && !self->m_paused && !self->m_reading) self->process();
    });
}

void PlainHttpCall::failSoon(TransportError error, std::string message) {
    asio::post(m_io, [self = shared_from_this(), error, message = std::move(message)]() mutable {
        self->finish(error, std::move(message));
    });
}

bool PlainHttpCall::stillRunning() {
    if (m_state == State::Gone && m_callbackDepth == 0) {
        m_callbacks = {}; // they may hold the caller's objects, which may hold this call
        m_holdWhilePaused.reset();
    }
    return m_state == State::Running;
}

void PlainHttpCall::finish(TransportError error, std::string message) {
    if (m_state != State::Running && m_state != State::Cancelling) return;
    auto self = shared_from_this();
    auto pool = m_pool.lock();
    if (!pool || pool->closed()) { // the client is gone: no callbacks any more
        onPoolClosing();
        return;
    }
    if (m_state == State::Cancelling) {
        error = TransportError::Cancelled;
        message = "cancelled by the caller";
    }
    m_state = State::Finished;
    m_deadlines.stop();
    dropConnection(); // unless complete() parked it
    pool->callEnded(this);

    UpstreamResult result;
    result.error = error;
    result.message = std::move(message);
    result.status = m_headDelivered ? m_parser->head().status : 0; // (the parser is reset only below)
    result.timeToFirstByte = m_deadlines.timeToFirstByte();
    result.duration = m_deadlines.elapsed();

    std::string().swap(m_request.body);
    m_parser.reset();
    m_holdWhilePaused.reset();
    auto onDone = std::move(m_callbacks.onDone);
    m_callbacks = {}; // they may hold the caller's objects, which may hold this call: break the cycle
    if (onDone) onDone(result);
}

void PlainHttpCall::onPoolClosing() {
    if (m_state == State::Running || m_state == State::Cancelling) m_state = State::Gone;
    m_deadlines.stop();
    dropConnection();
    if (m_callbackDepth == 0) {
        m_callbacks = {};
        m_holdWhilePaused.reset();
    }
}

} // namespace fusebox
