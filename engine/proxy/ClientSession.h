#pragma once
// One client connection (Beast's session shape: read, dispatch, write, repeat), HTTP/1.1 with keep-alive, on one
// I/O thread. A handler answers each request through this object, either whole (respond) or as a chunked stream
// (beginStream, sendChunk, endStream) with backpressure. While a request is being answered the session watches the
// socket (from a moment after it arrived: DeferredWatches), so a client that leaves is noticed and its upstream call
// can be cancelled.
#include "proxy/DeferredWatches.h"
#include "proxy/FramedFields.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace fusebox {

class UpstreamClient;
class ClientSession;
namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class RequestHandler {
public:
    virtual ~RequestHandler() = default;
    // Must end with exactly one respond(), or beginStream() ... endStream(), or nothing when the client is gone
    // (then the session ends the request itself once the handler lets go).
    virtual void handle(const std::shared_ptr<ClientSession>& session, Request&& request) = 0;
    // A request Beast refused before any handler could see it (too large, malformed): the answer in the API's
    // own shape for that path.
    virtual Response protocolError(int status, const std::string& target, const std::string& message) = 0;
};

struct SessionServices {
    RequestHandler& handler;
    UpstreamClient& upstream; // the one of this session's I/O thread
    int64_t maxBodyBytes = 32 * 1024 * 1024;
    int64_t maxHeaderBytes = 64 * 1024;
    std::atomic<int64_t>& requestsInFlight;
    std::atomic<int64_t>& connections; // sessions alive, for the connection cap
    DeferredWatches& watches;          // this I/O thread's: when a request's client starts being watched
};

class ClientSession : public std::enable_shared_from_this<ClientSession> {
public:
    ClientSession(boost::asio::ip::tcp::socket socket, SessionServices& services);
    ~ClientSession();
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;
    void start();

    // ---- for the handler of the current request; all on this session's I/O thread ----
    void respond(Response response);
    // The same for an answer whose fields the handler framed itself (none of Connection, Content-Length,
    // Transfer-Encoding): the status line with the standard reason, then the fields, then Connection and
    // Content-Length as Beast's keep_alive and prepare_payload would add them to a Response.
    void respond(unsigned version, int status, const FramedFields& fields, std::string body);
    void beginStream(http::response<http::empty_body> head);
    void sendChunk(std::string data);
    void endStream(std::string lastData = {});

    std::size_t pendingBytes() const { return m_pendingBytes; }
    // Called once the queued stream bytes fall below the low-water mark again.
    void setDrainHandler(std::function<void()> handler) { m_onDrain = std::move(handler); }
    // Called once if the client goes away while its request is being answered.
    void setGoneHandler(std::function<void()> handler) { m_onGone = std::move(handler); }
    bool clientGone() const { return m_gone; }
    // Starts watching for the client's departure if request `requestSeq` is still being answered (DeferredWatches).
    void watchRequest(uint64_t requestSeq);

    UpstreamClient& upstream() { return m_services.upstream; }
    boost::asio::any_io_executor executor() { return m_socket.get_executor(); }
    bool peerIsLoopback() const { return m_peerLoopback; }

    static constexpr std::size_t kHighWater = 1 << 20;  // pause the upstream above this many queued bytes
    static constexpr std::size_t kLowWater = 256 << 10; // and resume below this

private:
    enum class WriteKind { Head, Chunk, Last };
    struct PendingWrite {
        WriteKind kind;
        std::string data;
    };

    void readHeader();
    void readHeaderBytes();
    void parseHeader(); // what the buffer holds, as far as the header's end; reads more when it needs more
    // Feeds the parser what the buffer holds, until the header (headerOnly) or the whole request is parsed, the
    // buffer runs dry or the parser needs more; returns the parser's error (needing more is none).
    boost::beast::error_code parseBuffered(bool headerOnly);
    void onHeader(boost::beast::error_code ec);
    void readBody();
    void onBody(boost::beast::error_code ec);
    void dispatch();
    void failRequest(boost::beast::error_code ec);
    bool refuseTransferEncoding();
    void onHandlerFailed(const std::string& target, const std::string& what);
    void watchForDisconnect();
    void markGone();
    void writeNext();
    // The queued stream bytes are written (or failed): what follows them.
    void onWritten(boost::beast::error_code ec, bool last);
    // Writes as much of `buffers` as the socket takes now, without waiting; false when the socket cannot be put
    // in non-blocking mode (then nothing was written).
    template <class Buffers> bool writeNow(const Buffers& buffers, std::size_t& written, boost::beast::error_code& ec);
    void onAnswerWritten(boost::beast::error_code ec);
    // Starts m_writeBuffer with a status line, as Beast's serializer frames it.
    void frameStatusLine(unsigned version, unsigned status, std::string_view reason);
    // Sends m_writeBuffer (the framed head) and then `body`, and ends the request once written.
    void writeAnswer(std::string body);
    void finishRequest();
    void close();
    void flushSoon();

    // The read/write deadlines. One timer per connection, armed lazily: setting a deadline only stores it, and
    // the timer is re-armed only when the deadline moves earlier than the wait already pending (a wait that
    // fires early re-arms for the current deadline). So a request costs no timer system call in steady state.
    using Clock = std::chrono::steady_clock;
    void setDeadline(Clock::duration timeout);
    void clearDeadline() { m_deadline = Clock::time_point::max(); }
    void armDeadlineTimer(Clock::time_point at);
    void onDeadlineTimer();

    // A plain socket, not beast::tcp_stream: the deadlines are our own (below), and the stream's per-operation
    // timeout bookkeeping cost more than reading a small request.
    boost::asio::ip::tcp::socket m_socket;
    SessionServices& m_services;
    boost::beast::flat_buffer m_buffer;
    std::optional<http::request_parser<http::string_body>> m_parser;
    std::string m_target;
    bool m_keepAlive = true;
    bool m_inRequest = false;
    bool m_answerBegun = false; // respond() or beginStream() was called for the current request
    bool m_headRequest = false; // the current request is a HEAD: its answer has no body
    bool m_gone = false;
    bool m_closed = false;
    bool m_peerLoopback = false;
    uint64_t m_requestSeq = 0;

    std::string m_answerBody; // the body of a whole answer being written (respond): sent from here
    std::deque<PendingWrite> m_writes;
    bool m_writing = false;
    bool m_flushPosted = false;
    bool m_userNonBlocking = false; // the socket's synchronous writes return would_block rather than wait
    bool m_streamEnded = false;
    std::size_t m_pendingBytes = 0;
    std::string m_writeBuffer;         // the stream bytes in flight: queued writes, framed, in one buffer
    std::size_t m_writeChunkBytes = 0; // the chunk payload bytes among them (counted in m_pendingBytes)

    boost::asio::steady_timer m_deadlineTimer;
    Clock::time_point m_deadline = Clock::time_point::max(); // max: none
    Clock::time_point m_deadlineTimerAt = Clock::time_point::max(); // when the pending wait fires; max: none
    unsigned m_deadlineGeneration = 0;

    std::function<void()> m_onDrain;
    std::function<void()> m_onGone;
};

} // namespace fusebox
