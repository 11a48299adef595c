#include "sim/SimSession.h"

#include "sim/SimOpenAiExtras.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace fusebox::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr const char* kServer = "fusebox-sim";

RecordedRequest recordOf(const http::request<http::string_body>& request) {
    RecordedRequest recorded;
    recorded.method = std::string(request.method_string());
    recorded.target = std::string(request.target());
    for (const auto& field : request)
        recorded.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    recorded.body = request.body();
    recorded.at = std::chrono::system_clock::now();
    return recorded;
}

bool authorized(const http::request<http::string_body>& request, Dialect dialect, const std::string& key) {
    // Each dialect's own header only: a proxy that sends the key in the wrong one should find out here.
    if (dialect == Dialect::Anthropic) return request["x-api-key"] == key;
    return request[http::field::authorization] == "Bearer " + key;
}

bool isClientGone(const beast::error_code& ec) {
    return ec && ec != net::error::operation_aborted;
}

// True only for a JSON `true`; a request with "stream": "yes" is not streamed (and must not throw).
bool flag(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) return false;
    const auto it = object.find(key);
    return it != object.end() && it->is_boolean() && it->get<bool>();
}

} // namespace

SimSession::SimSession(net::ip::tcp::socket&& socket, std::shared_ptr<SimState> state)
    : m_stream(std::move(socket)), m_timer(m_stream.get_executor()), m_state(std::move(state)) {
    m_state->counters.openConnections.fetch_add(1, std::memory_order_relaxed);
}

SimSession::~SimSession() {
    setPhase(Phase::Closed); // releases the stream / hang gauges when stop() tears a connection down
    m_state->counters.openConnections.fetch_sub(1, std::memory_order_relaxed);
}

void SimSession::start() {
    net::dispatch(m_stream.get_executor(), [self = shared_from_this()] { self->readHeader(); });
}

// ---- Reading ----------------------------------------------------------------------------------------------

void SimSession::readHeader() {
    setPhase(Phase::Reading);
    m_parser.emplace();
    m_parser->header_limit(kHeaderLimit);
    m_parser->body_limit(m_state->options.bodyLimit);
    http::async_read_header(m_stream, m_buffer, *m_parser,
                            [self = shared_from_this()](ErrorCode ec, std::size_t) { self->onHeader(ec); });
}

void SimSession::onHeader(ErrorCode ec) {
    if (ec == http::error::header_limit) {
        m_keepAlive = false;
        return sendError(431, "fusebox sim: request headers too large");
    }
    if (ec) return close(); // end_of_stream between requests is the normal end of a keep-alive connection
    const auto& header = m_parser->get();
    m_keepAlive = header.keep_alive();
    m_endpoint = endpointOf(header.target()); // the dialect of a 413 for a body we will not read
    m_dialect = dialectOf(m_endpoint, header.target());
    if (beast::iequals(header[http::field::expect], "100-continue")) {
        // curl waits (1 s by default) for this before sending a large body; a real server answers at once.
        m_out = "HTTP/1.1 100 Continue\r\n\r\n";
        net::async_write(m_stream, net::buffer(m_out),
                         [self = shared_from_this()](ErrorCode ec, std::size_t) {
                             if (ec) return self->close();
                             self->readBody();
                         });
        return;
    }
    readBody();
}

void SimSession::readBody() {
    http::async_read(m_stream, m_buffer, *m_parser,
                     [self = shared_from_this()](ErrorCode ec, std::size_t) { self->onBody(ec); });
}

void SimSession::onBody(ErrorCode ec) {
    if (ec == http::error::body_limit) {
        m_keepAlive = false; // the rest of the body is still on the wire
        return sendError(413, "fusebox sim: request body too large");
    }
    if (ec) return close();
    handle(m_parser->release());
}

// ---- Answering --------------------------------------------------------------------------------------------

void SimSession::handle(Request request) {
    setPhase(Phase::Writing);
    m_request = std::move(request);
    guarded(&SimSession::dispatch);
}

void SimSession::guarded(void (SimSession::*step)()) {
    try {
        (this->*step)();
    } catch (const std::exception& e) {
        // Whatever went wrong must not take the provider's I/O thread (and the test process) down with it.
        m_fault.reset();
        sendError(500, std::string("fusebox sim: internal error: ") + e.what());
    }
}

void SimSession::dispatch() {
    m_keepAlive = m_request.keep_alive();
    m_chunked = m_request.version() >= 11;
    const std::string_view target = m_request.target();
    m_endpoint = endpointOf(target);
    m_dialect = dialectOf(m_endpoint, target);
    m_fault.reset();
    m_requestNumber = m_state->countRequest(m_endpoint);
    m_state->record(recordOf(m_request));

    if (m_endpoint == Endpoint::Unknown)
        return sendError(404, "fusebox sim: no such path: " + std::string(m_request.method_string()) + " " +
                                  std::string(target));
    const http::verb expected = m_endpoint == Endpoint::Models ? http::verb::get : http::verb::post;
    if (m_request.method() != expected)
        return sendError(405,
                         "fusebox sim: use " + std::string(http::to_string(expected)) + " for this path");
    const std::string& key = m_state->options.apiKey;
    if (!key.empty() && !authorized(m_request, m_dialect, key))
        return sendError(401, "fusebox sim: invalid API key");

    m_fault = m_state->faults.pick(target);
    if (!m_fault) return answer();
    m_state->counters.faultsInjected.fetch_add(1, std::memory_order_relaxed);
    if (m_fault->latency.count() <= 0) return answer();
    setPhase(Phase::Waiting);
    watchPeer(); // a client that gives up during the delay is let go at once
    m_timer.expires_after(m_fault->latency);
    m_timer.async_wait([self = shared_from_this()](ErrorCode ec) {
        if (ec || self->m_phase != Phase::Waiting) return;
        self->setPhase(Phase::Writing);
        self->guarded(&SimSession::answer);
    });
}

void SimSession::answer() {
    const FaultKind kind = m_fault ? m_fault->kind : FaultKind::None;
    switch (kind) {
    case FaultKind::Hang:
        return hang();
    case FaultKind::HttpError:
        return sendError(m_fault->status, m_fault->message, m_fault->retryAfter);
    case FaultKind::Garbage: {
        const bool streamed = flag(nlohmann::json::parse(m_request.body(), nullptr, false), "stream");
        return send(200, streamed ? "text/event-stream" : "application/json", garbageBody(streamed));
    }
    default:
        return serve();
    }
}

void SimSession::serve() {
    const FaultKind kind = m_fault ? m_fault->kind : FaultKind::None;
    std::string body;
    if (m_endpoint == Endpoint::Models) {
        // Anthropic's list has its own shape; its clients always send anthropic-version.
        const bool anthropic = m_request.find("anthropic-version") != m_request.end();
        body = modelsBody(m_state->options.models, anthropic ? Dialect::Anthropic : Dialect::OpenAI);
    } else {
        const auto json = nlohmann::json::parse(m_request.body(), nullptr, false);
        if (!json.is_object()) return sendError(400, "fusebox sim: the request body is not a JSON object");
        if (!json.contains("model") || !json["model"].is_string())
            return sendError(400, "fusebox sim: 'model' is required and must be a string");
        const Reply reply = replyFor(json);
        m_reply = reply;
        const bool streamed = flag(json, "stream");
        switch (m_endpoint) {
        case Endpoint::Embeddings: body = embeddingsBody(json, reply, m_state->options.embeddingDimensions); break;
        case Endpoint::CountTokens: body = countTokensBody(reply); break;
        case Endpoint::Messages:
            if (streamed) return startStream(messageStream(reply));
            body = messageBody(reply);
            break;
        case Endpoint::Responses:
            if (streamed) return startStream(responsesStream(reply));
            body = responsesBody(reply);
            break;
        case Endpoint::Completions:
            if (streamed) return startStream(completionStream(reply));
            body = completionBody(reply);
            break;
        default:
            if (streamed) return startStream(chatCompletionStream(reply));
            body = chatCompletionBody(reply);
        }
    }
    // A plain answer has no in-band error: the provider's trouble shows as the fault's status instead.
    if (kind == FaultKind::StreamError) return sendError(m_fault->status, m_fault->message);
    send(200, "application/json", body, {}, kind == FaultKind::CutStream);
}

Reply SimSession::replyFor(const nlohmann::json& request) const {
    const Options& options = m_state->options;
    Reply reply;
    const char* prefix = m_endpoint == Endpoint::Messages      ? "msg_sim_"
                         : m_endpoint == Endpoint::Responses   ? "resp_sim_"
                         : m_endpoint == Endpoint::Completions ? "cmpl-sim-"
                                                               : "chatcmpl-sim-";
    reply.id = prefix + std::to_string(m_requestNumber);
    reply.model = request["model"].get<std::string>();
    reply.created =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    reply.inputTokens = options.inputTokens > 0 ? options.inputTokens : inputTokensFor(request, m_endpoint);
    reply.outputTokens = outputTokensFor(request, m_endpoint, options.streamEvents);
    reply.truncated = reply.outputTokens < std::max(1, options.streamEvents);
    reply.cacheReadTokens = options.cacheReadTokens;
    reply.cacheCreationTokens = m_endpoint == Endpoint::Messages ? options.cacheCreationTokens : 0;
    if (auto it = request.find("stream_options"); it != request.end())
        reply.includeUsage = flag(*it, "include_usage");
    return reply;
}

void SimSession::sendError(int status, const std::string& message, const std::string& retryAfter) {
    send(status, "application/json", errorBody(m_dialect, status, message), retryAfter);
}

void SimSession::send(int status, const char* contentType, const std::string& body,
                      const std::string& retryAfter, bool truncate) {
    setPhase(Phase::Writing);
    http::response<http::string_body> response;
    response.version(m_request.version() == 10 ? 10 : 11);
    response.result(status >= 100 && status <= 999 ? static_cast<unsigned>(status) : 500u);
    if (status == 529) response.reason("Overloaded"); // Anthropic's own code, unknown to Beast
    response.set(http::field::server, kServer);
    response.set(http::field::content_type, contentType);
    response.set("x-request-id", "req_sim_" + std::to_string(m_requestNumber));
    if (!retryAfter.empty()) response.set(http::field::retry_after, retryAfter);
    response.keep_alive(m_keepAlive);
    response.body() = body;
    response.prepare_payload();
    std::ostringstream wire;
    wire << response;
    m_out = wire.str();
    // A cut answer keeps its full Content-Length and loses half of the body: the client must see it short.
    if (truncate) m_out.resize(m_out.size() - body.size() + body.size() / 2);
    write(truncate || !m_keepAlive);
}

void SimSession::write(bool closeAfter) {
    net::async_write(m_stream, net::buffer(m_out),
                     [self = shared_from_this(), closeAfter](ErrorCode ec, std::size_t) {
                         if (ec || closeAfter) return self->close();
                         self->continueReading();
                     });
}

// ---- Streaming --------------------------------------------------------------------------------------------

void SimSession::startStream(StreamScript script) {
    m_plan = StreamPlan{};
    m_plan.script = std::move(script);
    if (m_fault && (m_fault->kind == FaultKind::CutStream || m_fault->kind == FaultKind::StreamError)) {
        m_plan.fault = m_fault->kind;
        // Clamped, so the fault always bites even when asked for more events than the answer has.
        m_plan.faultAt =
            std::min<std::size_t>(std::max(0, m_fault->afterEvents), m_plan.script.content.size());
        m_plan.errorEvent =
            m_endpoint == Endpoint::Responses
                ? responsesFailedEvent(m_reply, m_fault->status, m_fault->message,
                                       m_plan.script.firstContentSequence + static_cast<int64_t>(m_plan.faultAt))
                : streamErrorEvent(m_dialect, m_fault->status, m_fault->message);
    }
    m_state->counters.streamsStarted.fetch_add(1, std::memory_order_relaxed);
    setPhase(Phase::Streaming);

    http::response<http::empty_body> response;
    response.version(m_chunked ? 11 : 10);
    response.result(http::status::ok);
    response.set(http::field::server, kServer);
    response.set(http::field::content_type, "text/event-stream; charset=utf-8");
    response.set(http::field::cache_control, "no-cache");
    response.set("x-request-id", "req_sim_" + std::to_string(m_requestNumber));
    if (m_chunked)
        response.chunked(true);
    else
        m_keepAlive = false; // without chunking, the end of the stream is the end of the connection
    response.keep_alive(m_keepAlive);
    std::ostringstream wire;
    wire << response.base();
    m_out = wire.str() + chunk(m_plan.script.preamble);
    net::async_write(m_stream, net::buffer(m_out),
                     [self = shared_from_this()](ErrorCode ec, std::size_t) { self->onStreamWritten(ec); });
    watchPeer();
}

void SimSession::onStreamWritten(ErrorCode ec) {
    if (m_phase != Phase::Streaming) return; // the peer watch saw the client leave first
    if (ec) {
        m_state->counters.streamsAborted.fetch_add(1, std::memory_order_relaxed);
        return close();
    }
    if (m_plan.ending) {
        if (m_plan.completing) m_state->counters.streamsCompleted.fetch_add(1, std::memory_order_relaxed);
        return finishStream();
    }
    const std::size_t total = m_plan.script.content.size();
    if (m_plan.fault == FaultKind::CutStream && m_plan.sent == m_plan.faultAt) {
        m_state->counters.streamsCut.fetch_add(1, std::memory_order_relaxed);
        return close();
    }
    const bool errorNext = m_plan.fault == FaultKind::StreamError && m_plan.sent == m_plan.faultAt;
    // The closing events follow the last content event at once; everything else waits its interval.
    if (m_plan.sent == total && !errorNext) return writeStreamPart(m_plan.script.epilogue, true, true);
    m_timer.expires_after(m_state->options.eventInterval);
    m_timer.async_wait([self = shared_from_this()](ErrorCode ec) { self->onTick(ec); });
}

void SimSession::onTick(ErrorCode ec) {
    if (ec || m_phase != Phase::Streaming) return;
    if (m_plan.fault == FaultKind::StreamError && m_plan.sent == m_plan.faultAt)
        return writeStreamPart(m_plan.errorEvent, true, false);
    writeStreamPart(m_plan.script.content[m_plan.sent++], false, false);
}

void SimSession::writeStreamPart(const std::string& events, bool ending, bool completing) {
    m_plan.ending = ending;
    m_plan.completing = completing;
    m_out = chunk(events);
    if (ending && m_chunked) m_out += "0\r\n\r\n";
    net::async_write(m_stream, net::buffer(m_out),
                     [self = shared_from_this()](ErrorCode ec, std::size_t) { self->onStreamWritten(ec); });
}

void SimSession::finishStream() {
    if (!m_keepAlive) return close();
    continueReading();
}

void SimSession::continueReading() {
    setPhase(Phase::Reading);
    // The peer watch and the next request's read must not both be armed: cancel the watch and let its
    // handler start the read (it may also have completed already, with bytes of a pipelined request).
    if (m_watching)
        m_stream.cancel();
    else
        readHeader();
}

std::string SimSession::chunk(const std::string& data) const {
    if (!m_chunked || data.empty()) return data;
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    return size + data + "\r\n";
}

// ---- Hanging, and noticing the client leave --------------------------------------------------------------

void SimSession::hang() {
    setPhase(Phase::Hanging);
    watchPeer();
}

void SimSession::watchPeer() {
    if (m_watching) return;
    m_watching = true;
    // Read into the request buffer, so anything the client pipelines meanwhile is parsed later, not lost.
    m_stream.async_read_some(
        m_buffer.prepare(4096),
        [self = shared_from_this()](ErrorCode ec, std::size_t n) { self->onPeerRead(ec, n); });
}

void SimSession::onPeerRead(ErrorCode ec, std::size_t bytes) {
    m_watching = false;
    if (!ec) m_buffer.commit(bytes);
    switch (m_phase) {
    case Phase::Waiting:
        if (!isClientGone(ec)) return watchPeer();
        return close();
    case Phase::Streaming:
        if (!isClientGone(ec)) return watchPeer();
        m_state->counters.streamsAborted.fetch_add(1, std::memory_order_relaxed);
        return close();
    case Phase::Hanging:
        if (!isClientGone(ec)) return watchPeer();
        return close();
    case Phase::Reading: // the answer ended while we watched
        if (isClientGone(ec)) return close();
        return readHeader();
    default: // Writing: what came stays in the buffer for the next read. Closed: nothing left to do.
        return;
    }
}

// ---- Lifetime ---------------------------------------------------------------------------------------------

void SimSession::close() {
    if (m_phase == Phase::Closed) return;
    setPhase(Phase::Closed);
    m_timer.cancel();
    ErrorCode ignored;
    m_stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    m_stream.socket().close(ignored);
}

void SimSession::setPhase(Phase phase) {
    if (phase == m_phase) return;
    auto& counters = m_state->counters;
    if (m_phase == Phase::Streaming) counters.activeStreams.fetch_sub(1, std::memory_order_relaxed);
    if (m_phase == Phase::Hanging) counters.hanging.fetch_sub(1, std::memory_order_relaxed);
    if (phase == Phase::Streaming) counters.activeStreams.fetch_add(1, std::memory_order_relaxed);
    if (phase == Phase::Hanging) counters.hanging.fetch_add(1, std::memory_order_relaxed);
    m_phase = phase;
}

} // namespace fusebox::sim
