#pragma once
// One streaming chat completion as the stream benchmark's client sees it: a Beast async client on a shared
// io_context that writes its request when told, reads the SSE answer, checks every content event against the
// sim's script and notes when the first one arrived (TTFT).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bench {

struct StreamResult {
    using Clock = std::chrono::steady_clock;
    bool connected = false;
    int status = 0;
    bool cleanEnd = false;   // the chunked body ended with its last chunk
    int content = 0;         // content-bearing events
    bool inOrder = true;     // every content piece is the one expected at its position
    bool sawDone = false;    // data: [DONE]
    bool afterDone = false;  // anything arrived after [DONE]
    bool errorEvent = false; // an in-band error event
    std::string error;       // transport or protocol error
    std::string errorBody;   // a non-200 answer's body (start of it)
    Clock::time_point sent{}, firstContent{}, ended{};

    bool intact(int events) const {
        return connected && status == 200 && cleanEnd && content == events && inOrder && sawDone && !afterDone &&
               !errorEvent && error.empty();
    }
    double ttftMs() const { return std::chrono::duration<double, std::milli>(firstContent - sent).count(); }
};

class StreamClient : public std::enable_shared_from_this<StreamClient> {
  public:
    using tcp = boost::asio::ip::tcp;
    // `request` must outlive the client (every client of a phase sends the same bytes).
    StreamClient(boost::asio::io_context& io, const tcp::endpoint& to, const std::string& request, int events,
                 std::function<void()> onConnected, std::function<void()> onSent, std::function<void()> onFinished);

    const StreamResult& result() const { return m_result; }
    void connect();
    void send();
    void abort(); // the phase timed out

  private:
    using Clock = StreamResult::Clock;
    using ErrorCode = boost::beast::error_code;
    void onHeader(ErrorCode ec);
    void onBody(ErrorCode ec);
    void onBodyBytes(std::string_view bytes);
    void onEvent(std::string_view event, Clock::time_point arrived);
    void finish();

    tcp::socket m_socket;
    tcp::endpoint m_to;
    const std::string& m_request;
    int m_events;
    std::function<void()> m_onConnected, m_onSent, m_onFinished;
    bool m_sentCalled = false;
    std::function<std::size_t(std::uint64_t, std::string_view, ErrorCode&)> m_chunkBody;
    boost::beast::flat_buffer m_buffer;
    std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> m_parser;
    std::string m_pending;
    StreamResult m_result;
    bool m_finished = false;
};

} // namespace bench
