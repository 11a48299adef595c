#include "proxy/ClientSession.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "core/Log.h"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace fusebox {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using namespace std::string_view_literals;

namespace {
constexpr auto kIdleTimeout = std::chrono::seconds(120); // keep-alive connections with nothing to say
constexpr auto kReadTimeout = std::chrono::seconds(60);  // a request trickling in
constexpr auto kWriteTimeout = std::chrono::seconds(60); // a client that stopped reading its answer
constexpr auto kFirstArm = std::chrono::seconds(60);     // the longest first wait of the deadline timer
constexpr std::size_t kMaxHeaderCount = 100;
constexpr int64_t kHeaderLimitMargin = 64 * 1024;
// (string_view pieces: appending a C string runs strlen on each literal.)
constexpr std::string_view kLineEnd = "\r\n", kColon = ": ";
} // namespace

ClientSession::ClientSession(tcp::socket socket, SessionServices& services)
    : m_socket(std::move(socket)), m_services(services), m_deadlineTimer(m_socket.get_executor()) {
    m_services.connections.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ec;
    m_socket.set_option(tcp::no_delay(true), ec);
    const auto peer = m_socket.remote_endpoint(ec);
    m_peerLoopback = !ec && peer.address().is_loopback();
}

ClientSession::~ClientSession() {
    if (m_inRequest) m_services.requestsInFlight.fetch_sub(1, std::memory_order_relaxed);
    m_services.connections.fetch_sub(1, std::memory_order_relaxed);
}

void ClientSession::start() { readHeader(); }

void ClientSession::setDeadline(Clock::duration timeout) {
    const auto now = Clock::now();
    m_deadline = now + timeout;
    // A first wait of at most kFirstArm: the keep-alive wait (120 s) is followed at once by a shorter one for
    // the body, which would otherwise re-arm on every connection's first request.
    if (m_deadlineTimerAt > m_deadline) armDeadlineTimer(std::min(m_deadline, now + kFirstArm));
}

void ClientSession::armDeadlineTimer(Clock::time_point at) {
    if (m_closed) return;
    m_deadlineTimerAt = at;
    const unsigned generation = ++m_deadlineGeneration;
    m_deadlineTimer.expires_at(at);
    m_deadlineTimer.async_wait([weak = weak_from_this(), generation](beast::error_code ec) {
        auto self = weak.lock();
        if (!self || generation != self->m_deadlineGeneration) return; // re-armed meanwhile
        self->m_deadlineTimerAt = Clock::time_point::max();
        if (!ec) self->onDeadlineTimer();
    });
}

void ClientSession::onDeadlineTimer() {
    if (m_closed || m_deadline == Clock::time_point::max()) return;
    if (Clock::now() < m_deadline) return armDeadlineTimer(m_deadline);
    // As tcp_stream's own timeout does: close the socket, so the read or write waiting fails and its handler
    // ends the connection.
    m_deadline = Clock::time_point::max();
    beast::error_code ec;
    m_socket.close(ec);
}

void ClientSession::readHeader() {
    m_parser.emplace();
    // Beast gets a margin above our limit, so an oversized header is still parsed and its path known: the 431
    // must speak the API of that path. Our own limit is checked in onHeader.
    m_parser->header_limit(static_cast<std::uint32_t>(m_services.maxHeaderBytes + kHeaderLimitMargin));
    m_parser->body_limit(static_cast<std::uint64_t>(m_services.maxBodyBytes));
    setDeadline(kIdleTimeout);
    // The header is read and parsed here rather than by Beast's async_read_header, whose composed operations cost
    // more than the parse itself; the outcomes are its outcomes (errors included, see readHeaderBytes).
    if (m_buffer.size() > 0) {
        // A pipelined request, already here: parsed from the event loop, as Beast's read would, never inside the
        // completion of the answer before it.
        net::post(m_socket.get_executor(), [self = shared_from_this()] { self->parseHeader(); });
        return;
    }
    readHeaderBytes();
}

void ClientSession::readHeaderBytes() {
    // As Beast reads: what the buffer has room for, at least 512 bytes and at most 64 KiB.
    const std::size_t room = std::clamp<std::size_t>(m_buffer.capacity() - m_buffer.size(), 512, 64 * 1024);
    m_socket.async_read_some(m_buffer.prepare(room), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        self->m_buffer.commit(n);
        // The connection ended: between requests that is the client's goodbye, within a header a cut message.
        if (ec == net::error::eof)
            return self->onHeader(self->m_parser->got_some() ? http::error::partial_message : http::error::end_of_stream);
        if (ec) return self->onHeader(ec);
        self->parseHeader();
    });
}

void ClientSession::parseHeader() {
    if (const auto ec = parseBuffered(true)) return onHeader(ec);
    if (m_parser->is_header_done()) return onHeader({});
    readHeaderBytes();
}

beast::error_code ClientSession::parseBuffered(bool headerOnly) {
    const auto done = [&] { return headerOnly ? m_parser->is_header_done() : m_parser->is_done(); };
    while (!done() && m_buffer.size() > 0) {
        beast::error_code ec;
        const std::size_t used = m_parser->put(m_buffer.data(), ec);
        m_buffer.consume(used);
        if (ec == http::error::need_more) break;
        if (ec) return ec;
        if (used == 0) break;
    }
    return {};
}

void ClientSession::onHeader(beast::error_code ec) {
    if (ec) return failRequest(ec);
    const auto& header = m_parser->get();
    m_target = std::string(header.target());
    std::size_t count = 0;
    int64_t bytes = static_cast<int64_t>(header.method_string().size() + header.target().size() + 12);
    for (const auto& field : header) {
        ++count;
        bytes += static_cast<int64_t>(field.name_string().size() + field.value().size() + 4);
    }
    if (count > kMaxHeaderCount || bytes > m_services.maxHeaderBytes) return failRequest(http::error::header_limit);
    if (refuseTransferEncoding()) return;
    // Clients ask before sending large bodies; Beast does not answer for us, and they would stall a second.
    if (beast::iequals(header[http::field::expect], "100-continue")) {
        auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
        http::async_write(m_socket, *interim, [self = shared_from_this(), interim](beast::error_code e, std::size_t) {
            if (e) return self->close();
            self->readBody();
        });
        return;
    }
    readBody();
}

void ClientSession::readBody() {
    // A small request's body arrives with its header: parse what the buffer holds now, and read only for the rest
    // (an asynchronous read of a body already here cost more than parsing it).
    if (const auto ec = parseBuffered(false)) return failRequest(ec);
    if (m_parser->is_done()) return onBody({});
    setDeadline(kReadTimeout);
    http::async_read(m_socket, m_buffer, *m_parser,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onBody(ec); });
}

void ClientSession::onBody(beast::error_code ec) {
    if (ec) return failRequest(ec);
    clearDeadline();
    dispatch();
}

void ClientSession::dispatch() {
    Request request = m_parser->release();
    m_keepAlive = request.keep_alive();
    m_inRequest = true;
    m_answerBegun = false;
    m_gone = false;
    m_streamEnded = false;
    ++m_requestSeq;
    m_services.requestsInFlight.fetch_add(1, std::memory_order_relaxed);
    auto self = shared_from_this();
    m_services.watches.add(self, m_requestSeq);
    m_headRequest = request.method() == http::verb::head;
    const std::string target(request.target());
    try {
        m_services.handler.handle(self, std::move(request));
    } catch (const std::exception& e) {
        onHandlerFailed(target, e.what());
    } catch (...) {
        onHandlerFailed(target, "unknown exception");
    }
}

void ClientSession::onHandlerFailed(const std::string& target, const std::string& what) {
    // The last boundary (the proxy's exchange has its own): one request's failure is a 500 for it, or the end of
    // its connection when an answer had already begun, and never the process.
    Log::error("request handler failed", {{"target", target}, {"error", what}});
    if (!m_inRequest) return;
    if (!m_answerBegun) return respond(m_services.handler.protocolError(500, target, "Fusebox failed on this request"));
    markGone();
    close();
}

bool ClientSession::refuseTransferEncoding() {
    // RFC 9112 §6.1: a request whose last transfer coding is not "chunked" has no knowable length, and Beast
    // reads such a body as empty: the bytes that follow would be parsed as the next request (smuggling).
    const auto& header = m_parser->get();
    const auto field = header.find(http::field::transfer_encoding);
    if (field == header.end()) return false;
    std::string_view value(field->value().data(), field->value().size());
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    if (beast::iequals(value, "chunked") && header.count(http::field::transfer_encoding) == 1 &&
        header.count(http::field::content_length) == 0)
        return false;
    failRequest(http::error::bad_transfer_encoding);
    return true;
}

void ClientSession::failRequest(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset || !m_parser) {
        return close();
    }
    int status = 400;
    std::string message = "malformed HTTP request: " + ec.message();
    if (ec == http::error::body_limit) {
        status = 413;
        message = "request body is larger than limits.max_body_bytes (" + std::to_string(m_services.maxBodyBytes) +
                  " bytes)";
    } else if (ec == http::error::header_limit) {
        status = 431;
        message = "request headers are too large or too many (limits.max_header_bytes is " +
                  std::to_string(m_services.maxHeaderBytes) + " bytes, at most " + std::to_string(kMaxHeaderCount) +
                  " fields)";
    }
    const std::string target = m_parser->is_header_done() ? std::string(m_parser->get().target()) : m_target;
    Response response = m_services.handler.protocolError(status, target, message);
    // The rest of the request is unread, so the connection cannot carry another one.
    m_keepAlive = false;
    response.keep_alive(false);
    response.prepare_payload();
    auto answer = std::make_shared<Response>(std::move(response));
    setDeadline(kWriteTimeout);
    http::async_write(m_socket, *answer,
                      [self = shared_from_this(), answer](beast::error_code, std::size_t) { self->close(); });
}

void ClientSession::watchRequest(uint64_t requestSeq) {
    if (requestSeq == m_requestSeq && m_inRequest && !m_gone && !m_closed) watchForDisconnect();
}

void ClientSession::watchForDisconnect() {
    // NOTE: readable while a request is being answered means either the client closed (EOF) or it pipelined the
    // next request. A peek tells them apart without consuming anything; after a pipelined request we stop
    // watching, since the socket stays readable.
    const uint64_t seq = m_requestSeq;
    m_socket.async_wait(tcp::socket::wait_read, [self = shared_from_this(), seq](beast::error_code ec) {
        if (seq != self->m_requestSeq || !self->m_inRequest || self->m_closed) return;
        if (ec) {
            if (ec != net::error::operation_aborted) self->markGone();
            return;
        }
        char byte;
        beast::error_code peekError;
        const std::size_t n = self->m_socket.receive(net::buffer(&byte, 1), tcp::socket::message_peek, peekError);
        // The socket may be in non-blocking mode (see writeNext): a readiness that left nothing to read is not a
        // departure; watch again.
        if (peekError == net::error::would_block || peekError == net::error::try_again) return self->watchForDisconnect();
        if (peekError || n == 0) self->markGone();
    });
}

void ClientSession::markGone() {
    if (m_gone) return;
    m_gone = true;
    m_keepAlive = false;
    // NOTE: the handler's callbacks hold it, and it holds this session: drop them all, or the two keep each other
    // alive and the request never leaves the in-flight count. With a write under way, its completion ends the
    // request instead.
    m_onDrain = nullptr;
    if (auto onGone = std::move(m_onGone)) onGone();
    if (m_inRequest && !m_writing) finishRequest();
}

void ClientSession::respond(Response response) {
    // One answer per request: a second (an error path after the answer began) would interleave two writes.
    if (!m_inRequest || m_answerBegun) return;
    if (m_gone) return finishRequest();
    m_answerBegun = true;
    response.keep_alive(m_keepAlive);
    response.prepare_payload();
    if (m_headRequest) {
        // The GET answer's status and headers, Content-Length included, and never a body (RFC 9110 §9.3.2).
        const auto length = response.body().size();
        response.body().clear();
        response.content_length(length);
    }
    // The head framed by hand, as Beast's serializer frames it (status line, the fields as stored, a blank line),
    // and sent with the body in one gathered write: Beast's serializer walks its buffer views per write call,
    // which cost more than the rest of sending a small answer.
    frameStatusLine(response.version(), response.result_int(), response.reason());
    for (const auto& field : response) {
        m_writeBuffer += field.name_string();
        m_writeBuffer += kColon;
        m_writeBuffer += field.value();
        m_writeBuffer += kLineEnd;
    }
    m_writeBuffer += kLineEnd;
    writeAnswer(std::move(response.body()));
}

void ClientSession::respond(unsigned version, int status, const FramedFields& fields, std::string body) {
    if (!m_inRequest || m_answerBegun) return;
    if (m_gone) return finishRequest();
    // As prepare_payload refuses it for a Response (the same exception, so callers see no difference).
    const bool bodiless = status / 100 == 1 || status == 204 || status == 304;
    if (bodiless && !body.empty()) throw std::invalid_argument("invalid response body");
    m_answerBegun = true;
    frameStatusLine(version, static_cast<unsigned>(status), http::obsolete_reason(static_cast<http::status>(status)));
    m_writeBuffer += fields.text();
    // keep_alive(): HTTP/1.1 keeps the connection unless told "close"; HTTP/1.0 closes it unless told otherwise.
    if (version >= 11 && !m_keepAlive) m_writeBuffer += "Connection: close\r\n"sv;
    if (version < 11 && m_keepAlive) m_writeBuffer += "Connection: keep-alive\r\n"sv;
    // prepare_payload(), and for HEAD the GET answer's length with no body (RFC 9110 §9.3.2).
    m_writeBuffer += "Content-Length: "sv;
    m_writeBuffer += std::to_string(body.size());
    m_writeBuffer += kLineEnd;
    m_writeBuffer += kLineEnd;
    if (m_headRequest) body.clear();
    writeAnswer(std::move(body));
}

void ClientSession::frameStatusLine(unsigned version, unsigned code, std::string_view reason) {
    m_writeBuffer.clear();
    const char start[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + version / 10), '.',
                          static_cast<char>('0' + version % 10), ' ', static_cast<char>('0' + code / 100 % 10),
                          static_cast<char>('0' + code / 10 % 10), static_cast<char>('0' + code % 10), ' '};
    m_writeBuffer.append(start, sizeof start);
    m_writeBuffer += reason;
    m_writeBuffer += kLineEnd;
}

void ClientSession::writeAnswer(std::string body) {
    m_answerBody = std::move(body);
    const std::array<net::const_buffer, 2> buffers{net::buffer(m_writeBuffer), net::buffer(m_answerBody)};
    const std::size_t total = m_writeBuffer.size() + m_answerBody.size();
    // At once, as a stream's events are (writeNext): a small answer fits the socket, and the one system call is
    // the whole write. The completion still comes from the event loop, as an asynchronous write's would, so the
    // handler that called respond() finishes before the session moves on to the next request.
    beast::error_code ec;
    std::size_t written = 0;
    if (writeNow(buffers, written, ec) && (ec || written == total)) {
        net::post(m_socket.get_executor(), [self = shared_from_this(), ec] { self->onAnswerWritten(ec); });
        return;
    }
    std::array<net::const_buffer, 2> rest = buffers;
    if (written < m_writeBuffer.size()) {
        rest[0] += written;
    } else {
        rest[1] += written - m_writeBuffer.size();
        rest[0] = net::const_buffer();
    }
    setDeadline(kWriteTimeout);
    net::async_write(m_socket, rest, [self = shared_from_this()](beast::error_code e, std::size_t) {
        self->clearDeadline();
        self->onAnswerWritten(e);
    });
}

void ClientSession::onAnswerWritten(beast::error_code ec) {
    m_answerBody = {};
    if (ec) {
        markGone();
        return close();
    }
    finishRequest();
}

template <class Buffers> bool ClientSession::writeNow(const Buffers& buffers, std::size_t& written, beast::error_code& ec) {
    written = 0;
    if (!m_userNonBlocking) {
        m_socket.non_blocking(true, ec); // so that write_some returns would_block instead of waiting
        m_userNonBlocking = !ec;
        if (!m_userNonBlocking) {
            ec = {};
            return false;
        }
    }
    written = m_socket.write_some(buffers, ec);
    if (ec == net::error::would_block || ec == net::error::try_again) ec = {};
    return true;
}

void ClientSession::beginStream(http::response<http::empty_body> head) {
    if (!m_inRequest || m_answerBegun) return;
    m_answerBegun = true;
    head.keep_alive(m_keepAlive);
    head.chunked(true);
    // The head is serialized now, so it can go out in one write with the first chunks.
    std::string bytes;
    http::response_serializer<http::empty_body> serializer(head);
    serializer.split(true);
    beast::error_code ec;
    while (!ec && !serializer.is_header_done()) {
        serializer.next(ec, [&](beast::error_code& error, const auto& buffers) {
            error = {};
            for (const auto buffer : beast::buffers_range_ref(buffers))
                bytes.append(static_cast<const char*>(buffer.data()), buffer.size());
            serializer.consume(beast::buffer_bytes(buffers));
        });
    }
    m_writes.push_back({WriteKind::Head, std::move(bytes)});
    flushSoon();
}

void ClientSession::sendChunk(std::string data) {
    if (!m_inRequest || m_streamEnded || data.empty()) return;
    m_pendingBytes += data.size();
    m_writes.push_back({WriteKind::Chunk, std::move(data)});
    flushSoon();
}

void ClientSession::endStream(std::string lastData) {
    if (!m_inRequest || m_streamEnded) return;
    if (!lastData.empty()) sendChunk(std::move(lastData));
    m_streamEnded = true;
    m_writes.push_back({WriteKind::Last, {}});
    flushSoon();
}

namespace {

// A chunk's size line ("1a2\r\n"), as Beast's make_chunk frames it; written without printf's format parsing.
void appendChunkSize(std::string& out, std::size_t size) {
    char digits[2 * sizeof size + 2];
    char* end = digits + sizeof digits;
    char* at = end;
    *--at = '\n';
    *--at = '\r';
    do {
        *--at = "0123456789abcdef"[size & 0xF];
        size >>= 4;
    } while (size != 0);
    out.append(at, static_cast<std::size_t>(end - at));
}

} // namespace

// Writes are started from the event loop rather than at once, so what the handler queues in one go (the head and
// the held events at commit, the several events of one upstream read) leaves in one system call.
void ClientSession::flushSoon() {
    if (m_writing || m_flushPosted || m_closed) return;
    m_flushPosted = true;
    net::post(m_socket.get_executor(), [self = shared_from_this()] {
        self->m_flushPosted = false;
        self->writeNext();
    });
}

void ClientSession::writeNext() {
    if (m_writing || m_closed) return;
    if (m_gone) {
        m_writes.clear();
        m_pendingBytes = 0;
        finishRequest();
        return;
    }
    if (m_writes.empty()) return;
    m_writing = true;
    // Everything queued, framed into one buffer (the chunk framing Beast's make_chunk / make_chunk_last write).
    m_writeBuffer.clear();
    m_writeChunkBytes = 0;
    bool last = false;
    while (!m_writes.empty() && !last) {
        PendingWrite& next = m_writes.front();
        switch (next.kind) {
        case WriteKind::Head: m_writeBuffer += next.data; break;
        case WriteKind::Chunk: {
            appendChunkSize(m_writeBuffer, next.data.size());
            m_writeBuffer += next.data;
            m_writeBuffer += "\r\n";
            m_writeChunkBytes += next.data.size();
            break;
        }
        case WriteKind::Last:
            m_writeBuffer += "0\r\n\r\n";
            last = true;
            break;
        }
        m_writes.pop_front();
    }
    // First at once, without waiting: a client reading its stream has room in its socket for the next events,
    // and the one system call is then the whole write. This spares, per relayed event, the reactor's queueing of
    // an operation, its posted completion and the handlers around it. What does not fit is written as before.
    beast::error_code ec;
    std::size_t written = 0;
    if (writeNow(net::buffer(m_writeBuffer), written, ec) && (ec || written == m_writeBuffer.size())) {
        onWritten(ec, last);
        return;
    }
    setDeadline(kWriteTimeout);
    net::async_write(m_socket, net::buffer(m_writeBuffer.data() + written, m_writeBuffer.size() - written),
                     [self = shared_from_this(), last](beast::error_code ec, std::size_t) {
                         self->clearDeadline();
                         self->onWritten(ec, last);
                     });
}

void ClientSession::onWritten(beast::error_code ec, bool last) {
    m_writing = false;
    m_pendingBytes -= m_writeChunkBytes;
    m_writeChunkBytes = 0;
    if (ec) {
        markGone();
        return close();
    }
    if (last) return finishRequest();
    if (m_pendingBytes < kLowWater && m_onDrain) m_onDrain();
    writeNext();
}

void ClientSession::finishRequest() {
    if (!m_inRequest) return;
    m_inRequest = false;
    m_services.requestsInFlight.fetch_sub(1, std::memory_order_relaxed);
    // The handler's callbacks hold it (and it holds us): let go of both before the next request.
    m_onDrain = nullptr;
    m_onGone = nullptr;
    if (!m_keepAlive || m_gone) return close();
    readHeader();
}

void ClientSession::close() {
    if (m_closed) return;
    m_closed = true;
    m_onDrain = nullptr;
    m_onGone = nullptr;
    m_writes.clear();
    m_deadline = Clock::time_point::max();
    ++m_deadlineGeneration;
    m_deadlineTimer.cancel();
    beast::error_code ec;
    m_socket.shutdown(tcp::socket::shutdown_both, ec);
    m_socket.close(ec);
}

} // namespace fusebox
