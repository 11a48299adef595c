#include "proxy/UpstreamTransfer.h"

#include "proxy/CurlErrors.h"

#include <boost/asio/post.hpp>
#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstring>
#include <utility>

namespace fusebox {

namespace asio = boost::asio;

static_assert(CURL_ERROR_SIZE <= 256, "m_errorBuffer is too small for this libcurl");

namespace {

std::size_t headerThunk(char* data, std::size_t size, std::size_t count, void* userdata) {
    return static_cast<UpstreamTransfer*>(userdata)->onHeaderBytes({data, size * count});
}

std::size_t writeThunk(char* data, std::size_t size, std::size_t count, void* userdata) {
    return static_cast<UpstreamTransfer*>(userdata)->onBodyBytes(data, size * count);
}

SteadyTime now() {
    return std::chrono::steady_clock::now();
}

Millis millisBetween(SteadyTime from, SteadyTime to) {
    return std::chrono::duration_cast<Millis>(to - from);
}

std::string lowerCase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n";
    const auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// RFC 9110 token characters, roughly: no controls, no separators we would mis-frame.
bool isToken(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return c > 0x20 && c < 0x7f && c != ':' && c != '(' && c != ')' && c != ',' && c != ';' && c != '"';
    });
}

bool hasLineBreakOrNul(std::string_view text) {
    return text.find_first_of(std::string_view("\r\n\0", 3)) != text.npos;
}

// Headers libcurl (or the connection) owns: forwarding a client's copy would corrupt framing or routing.
bool isManagedHeader(std::string_view lowerName) {
    static constexpr std::array<std::string_view, 9> kManaged = {
        "host",       "content-length",   "transfer-encoding", "connection",
        "keep-alive", "proxy-connection", "upgrade",           "te",
        "expect"};
    return std::find(kManaged.begin(), kManaged.end(), lowerName) != kManaged.end();
}

// "HTTP/1.1 200 OK", "HTTP/2 503"
int parseStatus(std::string_view statusLine) {
    const auto space = statusLine.find(' ');
    if (space == std::string_view::npos) return 0;
    const std::string_view rest = trim(statusLine.substr(space + 1));
    int status = 0;
    for (std::size_t i = 0; i < rest.size() && i < 3; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(rest[i]))) return 0;
        status = status * 10 + (rest[i] - '0');
    }
    return status;
}

} // namespace

UpstreamTransfer::UpstreamTransfer(const std::shared_ptr<CurlMulti>& multi, UpstreamRequest request,
                                   UpstreamCallbacks callbacks)
    : m_multi(multi), m_io(multi->io()), m_request(std::move(request)), m_callbacks(std::move(callbacks)) {}

UpstreamTransfer::~UpstreamTransfer() {
    // Still set only when never handed to the multi (the multi cleans up what it owns, then tells us).
    if (m_easy) curl_easy_cleanup(m_easy);
    if (m_headerList) curl_slist_free_all(m_headerList);
}

void UpstreamTransfer::begin() {
    m_startedAt = now();
    auto multi = m_multi.lock();
    if (!multi) {
        m_state = State::Gone;
        return;
    }
    multi->transferStarted();
    m_timer.emplace(m_io);

    std::string error;
    if (!setUpEasy(*multi, error)) {
        failSoon(TransportError::Local, "cannot set up the request: " + error);
        return;
    }
    scheduleDeadline();
    // start() may be called from inside another call's onData, i.e. inside libcurl.
    multi->runOutsideCurl([self = shared_from_this()] { self->attach(); });
}

bool UpstreamTransfer::setUpEasy(CurlMulti& multi, std::string& error) {
    CURL* easy = multi.takeEasy();
    if (!easy) {
        error = "cannot create a libcurl handle";
        return false;
    }
    m_easy = easy;
    const std::string& method = m_request.method;
    if (!isToken(method)) {
        error = "invalid HTTP method '" + method + "'";
        return false;
    }

    CURLcode rc = CURLE_OK;
    auto set = [&rc, easy](CURLoption option, auto value) {
        if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
    };
    set(CURLOPT_URL, m_request.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_NOSIGNAL, 1L); // timeouts must not use SIGALRM in a multi-threaded process
    set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    set(CURLOPT_FOLLOWLOCATION, 0L); // a redirect is the provider's answer, relayed as such
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    set(CURLOPT_SUPPRESS_CONNECT_HEADERS,
        1L); // an HTTPS proxy's "200 Connection established" is not the answer
    if (m_request.timeouts.connect > Millis::zero())
        set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_request.timeouts.connect.count()));
    set(CURLOPT_ERRORBUFFER, m_errorBuffer.data());
    set(CURLOPT_HEADERFUNCTION, &headerThunk);
    set(CURLOPT_HEADERDATA, this);
    set(CURLOPT_WRITEFUNCTION, &writeThunk);
    set(CURLOPT_WRITEDATA, this);

    const bool sendsBody = method != "GET" && method != "HEAD";
    if (method == "GET") {
        set(CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
        set(CURLOPT_NOBODY, 1L);
    } else {
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(m_request.body.size()));
        set(CURLOPT_POSTFIELDS, m_request.body.data());
        if (method != "POST") set(CURLOPT_CUSTOMREQUEST, method.c_str());
    }

    bool hasAccept = false;
    bool hasContentType = false;
    auto append = [this, &rc](const std::string& line) {
        curl_slist* list = curl_slist_append(m_headerList, line.c_str());
        if (!list)
            rc = CURLE_OUT_OF_MEMORY;
        else
            m_headerList = list;
    };
    for (const auto& [name, value] : m_request.headers) {
        if (!isToken(name) || hasLineBreakOrNul(value)) continue;
        const std::string lower = lowerCase(name);
        if (isManagedHeader(lower)) continue;
        hasAccept = hasAccept || lower == "accept";
        hasContentType = hasContentType || lower == "content-type";
        const std::string_view trimmed = trim(value);
        // "Name:" would make curl drop the header; "Name;" is its spelling for an empty value.
        append(trimmed.empty() ? name + ";" : name + ": " + std::string(trimmed));
    }
    // Blank values remove curl's own defaults: it must never wait for 100-continue, and headers arrive as
    // given.
    append("Expect:");
    if (!hasAccept) append("Accept:");
    if (sendsBody && !hasContentType) append("Content-Type:");
    set(CURLOPT_HTTPHEADER, m_headerList);

    if (rc != CURLE_OK) {
        error = curl_easy_strerror(rc);
        return false;
    }
    return true;
}

void UpstreamTransfer::attach() {
    if (m_state != State::Running) return; // cancelled or timed out before it could be added
    auto multi = m_multi.lock();
    if (!multi) return;
    std::string error;
    if (!multi->add(m_easy, shared_from_this(), error)) {
        failSoon(TransportError::Local, "cannot start the request: " + error);
        return;
    }
    m_attached = true;
    if (m_paused) applyPause();
}

void UpstreamTransfer::failSoon(TransportError error, std::string message) {
    asio::post(m_io, [self = shared_from_this(), error, message = std::move(message)]() mutable {
        self->finish(error, std::move(message));
    });
}

void UpstreamTransfer::cancel() {
    if (m_state != State::Running) return;
    m_state = State::Cancelling; // from here on curl's callbacks abort the transfer and deliver nothing
    stopTimers();                // so no deadline can win the race and report Timeout instead
    asio::post(m_io, [self = shared_from_this()] {
        self->finish(TransportError::Cancelled, "cancelled by the caller");
    });
}

void UpstreamTransfer::pause() {
    if (m_state != State::Running || m_paused) return;
    m_paused = true; // the idle deadline stops (see nearestDeadline); a wait pending for it lapses
    if (auto multi = m_multi.lock(); multi && m_attached)
        multi->runOutsideCurl([weak = weak_from_this()] {
            if (auto self = weak.lock()) self->applyPause();
        });
}

void UpstreamTransfer::resume() {
    if (m_state != State::Running || !m_paused) return;
    m_paused = false;
    if (m_gotFirstByte) {
        m_lastDataAt = now(); // the pause was the caller's doing, not the provider's silence
        scheduleDeadline();
    }
    // Always posted: unpausing makes curl deliver held data at once, and resume() must not call onData
    // itself.
    asio::post(m_io, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->applyPause();
    });
}

void UpstreamTransfer::applyPause() {
    if (m_state != State::Running || !m_attached || m_curlPaused == m_paused) return;
    auto multi = m_multi.lock();
    if (!multi || multi->closed()) return;
    m_curlPaused = m_paused; // first: unpausing may re-enter onBodyBytes, which may pause curl again
    multi->pauseReceive(m_easy, m_paused);
}

std::size_t UpstreamTransfer::onHeaderBytes(std::string_view raw) {
    if (m_state != State::Running) return 0; // cancelled or client gone: abort
    noteFirstByte();
    if (m_headDelivered) return raw.size(); // trailers after a chunked body: not part of the head
    std::string_view line = raw;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);

    if (line.starts_with("HTTP/")) { // a status line starts a new head: the previous one was a 1xx
        m_head = UpstreamHead{};
        m_head.status = parseStatus(line);
    } else if (line.empty()) {
        if (m_head.status >= 200 && !deliverHead()) return 0; // else a 1xx ended; the real one follows
    } else if (line.front() == ' ' || line.front() == '\t') { // obsolete line folding
        if (!m_head.headers.empty()) {
            m_head.headers.back().second += ' ';
            m_head.headers.back().second += trim(line);
        }
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        m_head.headers.emplace_back(lowerCase(trim(line.substr(0, colon))),
                                    std::string(trim(line.substr(colon + 1))));
    }
    return raw.size();
}

std::size_t UpstreamTransfer::onBodyBytes(const char* data, std::size_t size) {
    if (m_state != State::Running) return 0;
    if (m_paused) {
        // curl keeps these bytes and offers them again after curl_easy_pause(CONT).
        m_curlPaused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    noteFirstByte();
    m_lastDataAt = now();
    if (!m_headDelivered && !deliverHead()) return 0;
    if (m_callbacks.onData) m_callbacks.onData(std::string_view(data, size));
    return m_state == State::Running ? size : 0; // cancelled (or client destroyed) inside onData: stop now
}

bool UpstreamTransfer::deliverHead() {
    m_headDelivered = true;
    if (m_callbacks.onHead) m_callbacks.onHead(m_head);
    return m_state == State::Running;
}

void UpstreamTransfer::noteFirstByte() {
    if (m_gotFirstByte) return;
    m_gotFirstByte = true;
    m_firstByteAt = m_lastDataAt = now();
    scheduleDeadline(); // first_byte is over; idle starts (usually later than the wait pending: no re-arm)
}

void UpstreamTransfer::onCurlDone(int curlCode) {
    if (m_state == State::Cancelling) {
        finish(TransportError::Cancelled, "cancelled by the caller");
        return;
    }
    if (m_state != State::Running) return;
    if (curlCode == CURLE_OK) {
        if (!m_headDelivered) { // e.g. a reply whose head never ended with a blank line: still report it
            long status = 0;
            curl_easy_getinfo(m_easy, CURLINFO_RESPONSE_CODE, &status);
            m_head.status = static_cast<int>(status);
            deliverHead(); // may cancel; finish() then reports Cancelled
        }
        finish(TransportError::None, {});
        return;
    }
    if (curlCode == CURLE_COULDNT_CONNECT) {
        auto multi = m_multi.lock();
        if (auto local = multi ? multi->localSocketErrorSince(m_startedAt) : std::nullopt) {
            finish(TransportError::Local, "Fusebox could not open a socket: " + std::string(std::strerror(*local)) +
                                              " (a limit of this machine, not the provider's failure)");
            return;
        }
    }
    long requestBytes = 0;
    curl_easy_getinfo(m_easy, CURLINFO_REQUEST_SIZE, &requestBytes);
    CurlFailure failure =
        describeCurlFailure(curlCode, m_errorBuffer.data(), requestBytes > 0, m_request.timeouts.connect);
    finish(failure.error, std::move(failure.message));
}

void UpstreamTransfer::finish(TransportError error, std::string message) {
    if (m_state != State::Running && m_state != State::Cancelling) return;
    auto self = shared_from_this(); // removing the handle drops the multi's reference to us
    auto multi = m_multi.lock();
    if (multi && multi->insideCurl()) { // never remove a handle from inside libcurl
        multi->runOutsideCurl([self, error, message = std::move(message)]() mutable {
            self->finish(error, std::move(message));
        });
        return;
    }
    if (!multi || multi->closed()) { // the client is gone: no callbacks any more
        m_state = State::Gone;
        stopTimers();
        m_callbacks = {};
        return;
    }
    if (m_state == State::Cancelling) {
        error = TransportError::Cancelled;
        message = "cancelled by the caller";
    }
    m_state = State::Finished;
    stopTimers();

    UpstreamResult result;
    result.error = error;
    result.message = std::move(message);
    result.status = m_headDelivered ? m_head.status : 0;
    const SteadyTime end = now();
    result.timeToFirstByte = m_gotFirstByte ? millisBetween(m_startedAt, m_firstByteAt) : Millis::zero();
    result.duration = millisBetween(m_startedAt, end);

    releaseEasy();
    std::string().swap(m_request.body); // curl read it in place (CURLOPT_POSTFIELDS); the handle is gone now
    multi->transferEnded();
    auto onDone = std::move(m_callbacks.onDone);
    m_callbacks = {}; // they may hold the caller's objects, which may hold this call: break the cycle
    m_timer.reset();
    if (onDone) onDone(result);
}

void UpstreamTransfer::releaseEasy() {
    if (m_easy) {
        if (!m_attached)
            curl_easy_cleanup(m_easy);
        else if (auto multi = m_multi.lock())
            multi->remove(m_easy);
        m_easy = nullptr;
    }
    if (m_headerList) {
        curl_slist_free_all(m_headerList);
        m_headerList = nullptr;
    }
}

void UpstreamTransfer::onMultiClosing() {
    if (m_state == State::Running || m_state == State::Cancelling) m_state = State::Gone;
    stopTimers();
    m_easy = nullptr; // attached: the multi cleans it up
}

void UpstreamTransfer::onMultiClosed() {
    m_callbacks = {};
    m_timer.reset();
    if (m_headerList) {
        curl_slist_free_all(m_headerList);
        m_headerList = nullptr;
    }
}

SteadyTime UpstreamTransfer::nearestDeadline() const {
    const ProviderTimeouts& timeouts = m_request.timeouts;
    SteadyTime nearest = SteadyTime::max();
    if (timeouts.total > Millis::zero()) nearest = std::min(nearest, m_startedAt + timeouts.total);
    if (!m_gotFirstByte && m_request.stream && timeouts.firstByte > Millis::zero())
        nearest = std::min(nearest, m_startedAt + timeouts.firstByte);
    if (m_gotFirstByte && !m_paused && timeouts.idle > Millis::zero())
        nearest = std::min(nearest, m_lastDataAt + timeouts.idle);
    return nearest;
}

void UpstreamTransfer::scheduleDeadline() {
    if (!m_timer || m_timersStopped || m_state != State::Running) return;
    const SteadyTime due = nearestDeadline();
    if (due == SteadyTime::max() || m_timerAt <= due) return; // none, or a wait fires first and re-checks
    m_timerAt = due;
    const unsigned generation = ++m_timerGeneration;
    m_timer->expires_at(due);
    m_timer->async_wait([weak = weak_from_this(), generation](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || generation != self->m_timerGeneration) return; // re-armed or stopped meanwhile
        self->m_timerAt = SteadyTime::max();
        if (!ec) self->onDeadlineTimer();
    });
}

void UpstreamTransfer::stopTimers() {
    m_timersStopped = true;
    ++m_timerGeneration;
    m_timerAt = SteadyTime::max();
    if (m_timer) m_timer->cancel();
}

void UpstreamTransfer::onDeadlineTimer() {
    if (m_state != State::Running || m_timersStopped) return;
    const ProviderTimeouts& timeouts = m_request.timeouts;
    const SteadyTime at = now();
    // The deadlines that have passed, earliest first (as separate timers would have fired).
    struct Due {
        SteadyTime when;
        std::string_view what;
        Millis limit;
    };
    std::optional<Due> first;
    auto consider = [&](bool active, SteadyTime when, std::string_view what, Millis limit) {
        if (!active || limit <= Millis::zero() || at < when) return;
        if (!first || when < first->when) first = Due{when, what, limit};
    };
    consider(!m_gotFirstByte && m_request.stream, m_startedAt + timeouts.firstByte,
             "first_byte timeout: first byte not received within", timeouts.firstByte);
    consider(m_gotFirstByte && !m_paused, m_lastDataAt + timeouts.idle, "idle timeout: no data received for",
             timeouts.idle);
    consider(true, m_startedAt + timeouts.total, "total timeout: response not complete within", timeouts.total);
    if (first) {
        finish(TransportError::Timeout, timeoutMessage(first->what, first->limit));
        return;
    }
    scheduleDeadline();
}

std::string UpstreamTransfer::timeoutMessage(std::string_view what, Millis limit) const {
    return std::string(what) + " " + std::to_string(limit.count()) + " ms";
}

} // namespace fusebox
