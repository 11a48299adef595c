#pragma once
// One HTTP/1.1 exchange with an http:// provider on the I/O thread's own Asio loop, without libcurl: a parked
// connection from the PlainHttpPool or a new one (name resolved unless it is an IP literal, each address tried
// in turn), the request written in one go, the response parsed by PlainHttpResponseParser and delivered as it
// arrives. Behaves as UpstreamClient.h says of every call — the same callbacks, deadlines (connect included),
// error classes and messages' prefixes, cancel, pause and resume — so a caller cannot tell which client ran it.
// Internal to UpstreamClient; callers see it as an UpstreamCall.
#include "proxy/PlainHttpResponseParser.h"
#include "proxy/PlainHttpUrl.h"
#include "proxy/UpstreamCall.h"
#include "proxy/UpstreamDeadlines.h"
#include "proxy/UpstreamTypes.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fusebox {

class PlainHttpPool;

class PlainHttpCall final : public UpstreamCall,
                            public PlainHttpResponseParser::BodySink,
                            public std::enable_shared_from_this<PlainHttpCall> {
  public:
    PlainHttpCall(const std::shared_ptr<PlainHttpPool>& pool, PlainHttpUrl url, UpstreamRequest request,
                  UpstreamCallbacks callbacks);
    ~PlainHttpCall() override;
    PlainHttpCall(const PlainHttpCall&) = delete;
    PlainHttpCall& operator=(const PlainHttpCall&) = delete;

    // Starts the exchange; never calls a callback from inside itself (a failure to start is posted).
    void begin();

    void cancel() override;
    void pause() override;
    void resume() override;
    bool finished() const override { return m_state == State::Finished || m_state == State::Gone; }

    // The client is going away: from now on no callback runs. May be called from inside one of this call's
    // callbacks.
    void onPoolClosing();

  private:
    enum class State { Running, Cancelling, Finished, Gone };
    using tcp = boost::asio::ip::tcp;

    bool sendsBody() const;
    void startResponse();
    std::string requestHead() const;
    void connectNew();
    void connectTo(std::vector<tcp::endpoint> endpoints, std::size_t index);
    void send();
    void read();
    void onRead(const boost::system::error_code& ec, std::size_t bytes);
    void process();
    bool deliverHead();
    bool onBodyPiece(std::string_view piece) override;
    void onEndOfStream();
    void complete();
    // A parked connection that turns out dead before any byte of the answer: once, on a new connection.
    bool retryOnNewConnection();
    void dropConnection();

    void failSoon(TransportError error, std::string message);
    void finish(TransportError error, std::string message);
    // After each callback: the call may have been cancelled or silenced inside it.
    bool stillRunning();

    std::weak_ptr<PlainHttpPool> m_pool;
    boost::asio::io_context& m_io;
    PlainHttpUrl m_url;
    UpstreamRequest m_request;
    UpstreamCallbacks m_callbacks;
    UpstreamDeadlines m_deadlines;
    State m_state = State::Running;

    std::string m_head;                   // the request line and headers, as sent
    std::optional<tcp::socket> m_socket;  // the connection in use
    std::optional<tcp::resolver> m_resolver;
    unsigned m_connection = 0;            // tells a stale completion (a connection since dropped) from a live one
    bool m_reused = false;                // the connection came from the pool
    bool m_retried = false;
    bool m_writing = false;
    bool m_writeFailed = false;           // an early answer arrived while the request could not be sent whole
    bool m_reading = false;
    bool m_gotBytes = false;              // of the answer, on this connection
    bool m_endOfStream = false;           // the provider closed its side

    boost::beast::flat_buffer m_buffer;
    std::optional<PlainHttpResponseParser> m_parser;
    bool m_headDelivered = false;

    bool m_paused = false;
    std::shared_ptr<PlainHttpCall> m_holdWhilePaused; // no read is pending to keep the call alive meanwhile
    int m_callbackDepth = 0;
};

} // namespace fusebox
