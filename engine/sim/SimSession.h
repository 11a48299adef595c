#pragma once
// One client connection to a SimProvider: reads requests (keep-alive, pipelining, Expect: 100-continue),
// answers them in the right dialect, and plays the fault each request drew.
//
// Everything runs on the connection's strand. Streams are paced by one steady_timer per connection, never a
// sleep, so a thousand open streams cost a thousand sockets and timers and no threads. While a stream plays
// or a request hangs, a read stays armed on the socket, so a client that goes away is seen at once (EOF) and
// not only at the next write.
#include "sim/SimResponses.h"
#include "sim/SimState.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>
#include <string>

namespace fusebox::sim {

class SimSession : public std::enable_shared_from_this<SimSession> {
  public:
    SimSession(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<SimState> state);
    ~SimSession();
    SimSession(const SimSession&) = delete;
    SimSession& operator=(const SimSession&) = delete;

    void start();

  private:
    using ErrorCode = boost::beast::error_code;
    using Request = boost::beast::http::request<boost::beast::http::string_body>;

    enum class Phase { Reading, Waiting, Writing, Streaming, Hanging, Closed };

    // A streamed answer in progress.
    struct StreamPlan {
        StreamScript script;
        std::size_t sent = 0; // content events written
        FaultKind fault = FaultKind::None;
        std::size_t faultAt = 0; // CutStream / StreamError: after this many content events
        std::string errorEvent;
        bool ending = false;     // the write in flight is the last one
        bool completing = false; // ... and it is the normal end (not an in-band error)
    };

    void readHeader();
    void onHeader(ErrorCode ec);
    void readBody();
    void onBody(ErrorCode ec);

    void handle(Request request);
    void guarded(void (SimSession::*step)()); // an exception becomes a 500, never a dead I/O thread
    void dispatch();
    void answer();
    void serve();
    Reply replyFor(const nlohmann::json& request) const;

    void sendError(int status, const std::string& message, const std::string& retryAfter = {});
    void send(int status, const char* contentType, const std::string& body,
              const std::string& retryAfter = {}, bool truncate = false);
    void write(bool closeAfter);

    void startStream(StreamScript script);
    void onStreamWritten(ErrorCode ec);
    void onTick(ErrorCode ec);
    void writeStreamPart(const std::string& events, bool ending, bool completing);
    void finishStream();
    void continueReading();

    void hang();
    void watchPeer();
    void onPeerRead(ErrorCode ec, std::size_t bytes);

    void close();
    void setPhase(Phase phase);
    std::string chunk(const std::string& data) const;

    boost::beast::tcp_stream m_stream;
    boost::beast::flat_buffer m_buffer;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> m_parser;
    boost::asio::steady_timer m_timer;
    std::shared_ptr<SimState> m_state;

    Phase m_phase = Phase::Reading;
    bool m_watching = false; // a read is armed to notice the client leaving
    bool m_keepAlive = true;
    bool m_chunked = true; // false for an HTTP/1.0 client: the stream then ends by closing
    std::string m_out;     // the bytes of the write in flight

    // The request being answered and what it drew.
    Request m_request;
    uint64_t m_requestNumber = 0;
    Endpoint m_endpoint = Endpoint::Unknown;
    Dialect m_dialect = Dialect::OpenAI;
    std::optional<Fault> m_fault;
    Reply m_reply; // of the answer being streamed
    StreamPlan m_plan;
};

} // namespace fusebox::sim
