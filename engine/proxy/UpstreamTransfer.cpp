#include "proxy/UpstreamTransfer.h"

#include "proxy/CurlErrors.h"
#include "proxy/UpstreamHeaders.h"

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

// "HTTP/1.1 200 OK", "HTTP/2 503"
int parseStatus(std::string_view statusLine) {
    const auto space = statusLine.find(' ');
    if (space == std::string_view::npos) return 0;
    const std::string_view rest = trimHeaderSpace(statusLine.substr(space + 1));
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
    : m_multi(multi), m_io(multi->io()), m_request(std::move(request)), m_callbacks(std::move(callbacks)),
      m_deadlines(m_io, m_request.timeouts, m_request.stream) {}

UpstreamTransfer::~UpstreamTransfer() {
    // Still set only when never handed to the multi (the multi cleans up what it owns, then tells us).
    if (m_easy) curl_easy_cleanup(m_easy);
    if (m_headerList) curl_slist_free_all(m_headerList);
}

void UpstreamTransfer::begin() {
    auto multi = m_multi.lock();
    if (!multi) {
        m_state = State::Gone;
        return;
    }
    multi->transferStarted();
    m_deadlines.start(weak_from_this(), [this](std::string message) { finish(TransportError::Timeout, std::move(message)); });

    std::string error;
    if (!setUpEasy(*multi, error)) {
        failSoon(TransportError::Local, "cannot set up the request: " + error);
        return;
    }
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
    if (!isHttpToken(method)) {
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
    forEachForwardedHeader(m_request.headers, [&](std::string_view name, std::string_view value) {
        hasAccept = hasAccept || sameHeaderName(name, "accept");
        hasContentType = hasContentType || sameHeaderName(name, "content-type");
        // "Name:" would make curl drop the header; "Name;" is its spelling for an empty value.
        append(value.empty() ? std::string(name) + ";" : std::string(name) + ": " + std::string(value));
    });
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
    m_deadlines.stop();          // so no deadline can win the race and report Timeout instead
    asio::post(m_io, [self = shared_from_this()] {
        self->finish(TransportError::Cancelled, "cancelled by the caller");
    });
}

void UpstreamTransfer::pause() {
    if (m_state != State::Running || m_paused) return;
    m_paused = true;
    m_deadlines.setPaused(true);
    if (auto multi = m_multi.lock(); multi && m_attached)
        multi->runOutsideCurl([weak = weak_from_this()] {
            if (auto self = weak.lock()) self->applyPause();
        });
}

void UpstreamTransfer::resume() {
    if (m_state != State::Running || !m_paused) return;
    m_paused = false;
    m_deadlines.setPaused(false);
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
    m_deadlines.firstByte();
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
            m_head.headers.back().second += trimHeaderSpace(line);
        }
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
        m_head.headers.emplace_back(lowerCase(trimHeaderSpace(line.substr(0, colon))),
                                    std::string(trimHeaderSpace(line.substr(colon + 1))));
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
    m_deadlines.firstByte();
    m_deadlines.data();
    if (!m_headDelivered && !deliverHead()) return 0;
    if (m_callbacks.onData) m_callbacks.onData(std::string_view(data, size));
    return m_state == State::Running ? size : 0; // cancelled (or client destroyed) inside onData: stop now
}

bool UpstreamTransfer::deliverHead() {
    m_headDelivered = true;
    if (m_callbacks.onHead) m_callbacks.onHead(m_head);
    return m_state == State::Running;
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
        if (auto local = multi ? multi->localSocketErrorSince(m_deadlines.startedAt()) : std::nullopt) {
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
        m_deadlines.stop();
        m_callbacks = {};
        return;
    }
    if (m_state == State::Cancelling) {
        error = TransportError::Cancelled;
        message = "cancelled by the caller";
    }
    m_state = State::Finished;
    m_deadlines.stop();

    UpstreamResult result;
    result.error = error;
    result.message = std::move(message);
    result.status = m_headDelivered ? m_head.status : 0;
    result.timeToFirstByte = m_deadlines.timeToFirstByte();
    result.duration = m_deadlines.elapsed();

    releaseEasy();
    std::string().swap(m_request.body); // curl read it in place (CURLOPT_POSTFIELDS); the handle is gone now
    multi->transferEnded();
    auto onDone = std::move(m_callbacks.onDone);
    m_callbacks = {}; // they may hold the caller's objects, which may hold this call: break the cycle
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
    m_deadlines.stop();
    m_easy = nullptr; // attached: the multi cleans it up
}

void UpstreamTransfer::onMultiClosed() {
    m_callbacks = {};
    if (m_headerList) {
        curl_slist_free_all(m_headerList);
        m_headerList = nullptr;
    }
}

} // namespace fusebox
