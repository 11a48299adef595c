#include "StreamClient.h"

#include "sim/SimResponses.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <nlohmann/json.hpp>

namespace bench {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

StreamClient::StreamClient(net::io_context& io, const tcp::endpoint& to, const std::string& request, int events,
                           std::function<void()> onConnected, std::function<void()> onSent,
                           std::function<void()> onFinished)
    : m_socket(io), m_to(to), m_request(request), m_events(events), m_onConnected(std::move(onConnected)),
      m_onSent(std::move(onSent)), m_onFinished(std::move(onFinished)) {
    m_chunkBody = [this](std::uint64_t, std::string_view body, beast::error_code&) -> std::size_t {
        onBodyBytes(body);
        return body.size();
    };
}

void StreamClient::connect() {
    m_socket.async_connect(m_to, [self = shared_from_this()](beast::error_code ec) {
        if (ec) self->m_result.error = "connect: " + ec.message();
        else {
            self->m_result.connected = true;
            beast::error_code ignored;
            self->m_socket.set_option(tcp::no_delay(true), ignored);
        }
        self->m_onConnected();
    });
}

void StreamClient::send() {
    if (!m_result.connected) return finish();
    m_parser.emplace();
    m_parser->body_limit(1024 * 1024);
    m_parser->on_chunk_body(m_chunkBody);
    m_result.sent = Clock::now();
    m_sentCalled = true;
    m_onSent();
    net::async_write(m_socket, net::buffer(m_request), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) {
            self->m_result.error = "write: " + ec.message();
            return self->finish();
        }
        http::async_read_header(self->m_socket, self->m_buffer, *self->m_parser,
                                [self](beast::error_code ec, std::size_t) { self->onHeader(ec); });
    });
}

void StreamClient::abort() {
    if (m_finished) return;
    if (m_result.error.empty()) m_result.error = "cut short: the phase timed out";
    beast::error_code ignored;
    m_socket.close(ignored);
}

void StreamClient::onHeader(beast::error_code ec) {
    if (ec) {
        m_result.error = "read header: " + ec.message();
        return finish();
    }
    m_result.status = static_cast<int>(m_parser->get().result_int());
    http::async_read(m_socket, m_buffer, *m_parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->onBody(ec);
    });
}

void StreamClient::onBody(beast::error_code ec) {
    if (ec) m_result.error = "read body: " + ec.message();
    else {
        m_result.cleanEnd = m_parser->is_done() && m_parser->chunked();
        if (!m_pending.empty() && m_pending.find_first_not_of("\r\n") != std::string::npos)
            m_result.error = "the stream ended inside an event";
    }
    if (m_result.status != 200) m_result.errorBody = m_parser->get().body().substr(0, 300);
    finish();
}

void StreamClient::onBodyBytes(std::string_view bytes) {
    const auto arrived = Clock::now();
    for (char c : bytes)
        if (c != '\r') m_pending.push_back(c);
    std::size_t start = 0;
    for (std::size_t end; (end = m_pending.find("\n\n", start)) != std::string::npos; start = end + 2)
        onEvent(std::string_view(m_pending).substr(start, end - start), arrived);
    m_pending.erase(0, start);
}

void StreamClient::onEvent(std::string_view event, Clock::time_point arrived) {
    std::string data;
    bool any = false;
    while (!event.empty()) {
        const auto nl = event.find('\n');
        const std::string_view line = event.substr(0, nl);
        event = nl == std::string_view::npos ? std::string_view{} : event.substr(nl + 1);
        if (line.starts_with("data:")) {
            std::string_view v = line.substr(5);
            if (v.starts_with(' ')) v.remove_prefix(1);
            if (any) data += '\n';
            data += v;
            any = true;
        } else if (line.starts_with("event:") && line.find("error") != std::string_view::npos) {
            m_result.errorEvent = true;
        }
    }
    if (!any) return; // a comment or keep-alive
    if (m_result.sawDone) {
        m_result.afterDone = true;
        return;
    }
    if (data == "[DONE]") {
        m_result.sawDone = true;
        return;
    }
    const auto json = nlohmann::json::parse(data, nullptr, false);
    if (!json.is_object()) {
        m_result.error = "an event is not JSON: " + data.substr(0, 120);
        return;
    }
    if (json.contains("error")) {
        m_result.errorEvent = true;
        return;
    }
    const auto choices = json.find("choices");
    if (choices == json.end() || !choices->is_array() || choices->empty()) return; // e.g. a usage chunk
    const auto& delta = (*choices)[0].value("delta", nlohmann::json::object());
    const auto content = delta.find("content");
    if (content == delta.end() || !content->is_string() || content->get_ref<const std::string&>().empty())
        return; // the role preamble, the finish chunk
    if (m_result.content == 0) m_result.firstContent = arrived;
    if (content->get_ref<const std::string&>() != fusebox::sim::contentPiece(m_result.content))
        m_result.inOrder = false;
    ++m_result.content;
}

void StreamClient::finish() {
    if (m_finished) return;
    m_finished = true;
    m_result.ended = Clock::now();
    if (!m_sentCalled) m_onSent(); // keeps the in-flight count balanced for a stream that never sent
    beast::error_code ignored;
    m_socket.shutdown(tcp::socket::shutdown_both, ignored);
    m_socket.close(ignored);
    m_onFinished();
}

} // namespace bench
