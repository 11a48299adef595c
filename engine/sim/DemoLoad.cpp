#include "sim/DemoLoad.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <random>

namespace fusebox::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

const char* const kPrompts[] = {"Summarise the incident report.", "Write a haiku about retries.",
                                "List three causes of a 503.", "Explain a circuit breaker in one line."};

// One request: connect, write, read the whole answer (a streamed one ends with its last SSE event), close.
class Call : public std::enable_shared_from_this<Call> {
public:
    Call(asio::io_context& io, DemoLoad::Options& options, std::atomic<uint64_t>& answered,
         std::atomic<uint64_t>& succeeded, bool stream, const char* prompt)
        : m_stream(io), m_options(options), m_answered(answered), m_succeeded(succeeded) {
        m_request.method(http::verb::post);
        m_request.target("/v1/chat/completions");
        m_request.version(11);
        m_request.set(http::field::host, options.host + ":" + std::to_string(options.port));
        m_request.set(http::field::content_type, "application/json");
        m_request.set(http::field::authorization, "Bearer demo-agent"); // never forwarded: Fusebox sends its own key
        m_request.set("x-demo-agent", "fusebox-demo-load");
        m_request.body() = std::string(R"({"model":")") + options.model + R"(","stream":)" + (stream ? "true" : "false") +
                           R"(,"messages":[{"role":"user","content":")" + prompt + R"("}]})";
        m_request.prepare_payload();
    }

    void run() {
        m_stream.expires_after(m_options.requestTimeout);
        const tcp::endpoint endpoint(asio::ip::make_address(m_options.host), m_options.port);
        m_stream.async_connect(endpoint, [self = shared_from_this()](beast::error_code ec) { self->onConnect(ec); });
    }

private:
    void onConnect(beast::error_code ec) {
        if (ec) return;
        http::async_write(m_stream, m_request,
                          [self = shared_from_this()](beast::error_code e, std::size_t) { self->onWrite(e); });
    }
    void onWrite(beast::error_code ec) {
        if (ec) return;
        m_parser.body_limit(8 * 1024 * 1024);
        http::async_read(m_stream, m_buffer, m_parser,
                         [self = shared_from_this()](beast::error_code e, std::size_t) { self->onRead(e); });
    }
    void onRead(beast::error_code ec) {
        if (!ec) {
            ++m_answered;
            if (m_parser.get().result_int() / 100 == 2) ++m_succeeded;
        }
        beast::error_code ignored;
        m_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }

    beast::tcp_stream m_stream;
    DemoLoad::Options& m_options;
    std::atomic<uint64_t>& m_answered;
    std::atomic<uint64_t>& m_succeeded;
    http::request<http::string_body> m_request;
    beast::flat_buffer m_buffer;
    http::response_parser<http::string_body> m_parser;
};

} // namespace

class DemoLoad::Impl {
public:
    explicit Impl(DemoLoad& owner) : m_owner(owner), m_timer(m_io), m_random(std::random_device{}()) {}

    void tick() {
        // Poisson-ish arrivals around the asked rate, so the charts do not look machine-made.
        std::exponential_distribution<double> gap(std::max(0.1, m_owner.m_options.requestsPerSecond));
        m_timer.expires_after(std::chrono::microseconds(static_cast<int64_t>(gap(m_random) * 1e6)));
        m_timer.async_wait([this](beast::error_code ec) {
            if (ec) return; // cancelled by stop()
            const uint64_t n = m_owner.m_sent++;
            const bool stream = m_owner.m_options.streamEvery > 0 && n % m_owner.m_options.streamEvery == 0;
            std::make_shared<Call>(m_io, m_owner.m_options, m_owner.m_answered, m_owner.m_succeeded, stream,
                                   kPrompts[n % std::size(kPrompts)])
                ->run();
            tick();
        });
    }

    DemoLoad& m_owner;
    asio::io_context m_io;
    asio::steady_timer m_timer;
    std::minstd_rand m_random;
};

DemoLoad::DemoLoad(Options options) : m_options(std::move(options)) {}

DemoLoad::~DemoLoad() { stop(); }

void DemoLoad::start() {
    if (m_impl) return;
    m_impl = std::make_unique<Impl>(*this);
    m_impl->tick();
    m_thread = std::thread([impl = m_impl.get()] { impl->m_io.run(); });
}

void DemoLoad::stop() {
    if (!m_impl) return;
    // NOTE: stopping the io_context abandons the calls in flight; destroying it (after the join) closes their
    // sockets, which the proxy sees as clients that went away (outcome cancelled), as a real agent's exit would.
    m_impl->m_io.stop();
    if (m_thread.joinable()) m_thread.join();
    m_impl.reset();
}

} // namespace fusebox::sim
