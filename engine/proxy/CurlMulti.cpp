#include "proxy/CurlMulti.h"

#include "proxy/CurlGlobal.h"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <utility>

namespace fusebox {

namespace asio = boost::asio;

struct CurlMulti::SocketWatch {
    SocketWatch(asio::io_context& io, int fd) : descriptor(io), fd(fd) {}
    asio::posix::stream_descriptor descriptor;
    int fd;
    int wanted = 0; // CURL_POLL_IN / CURL_POLL_OUT, as curl last asked
    bool readWaiting = false;
    bool writeWaiting = false;
    bool forgotten = false; // curl let go of it (or its number was reused): late wake-ups are ignored
    bool parked = false;    // an idle connection curl stopped watching (CURL_POLL_REMOVE) but did not close
    bool watchedForWrite = false; // a write wait was ever armed: asio keeps EPOLLOUT in the registration
};

// Counts a call into libcurl; when the outermost one returns, a close() asked for meanwhile is carried out.
class CurlMulti::CurlScope {
  public:
    explicit CurlScope(CurlMulti& multi) : m_multi(multi) { ++m_multi.m_depth; }
    ~CurlScope() {
        if (--m_multi.m_depth == 0 && m_multi.m_closing) m_multi.teardown();
    }
    CurlScope(const CurlScope&) = delete;
    CurlScope& operator=(const CurlScope&) = delete;

  private:
    CurlMulti& m_multi;
};

struct CurlMultiHooks {
    static int socket(CURL*, curl_socket_t fd, int what, void* userp, void* socketp) {
        static_cast<CurlMulti*>(userp)->onSocketUpdate(fd, what, socketp);
        return 0;
    }
    static int timer(CURLM*, long timeoutMs, void* userp) {
        static_cast<CurlMulti*>(userp)->onTimerUpdate(timeoutMs);
        return 0;
    }
    // Set on every easy handle, and inherited by its connections, so we let go of a descriptor before its
    // number can be reused: epoll must never be left watching a closed (or, worse, reassigned) fd on our
    // behalf.
    static int closeSocket(void* clientp, curl_socket_t fd) {
        static_cast<CurlMulti*>(clientp)->onSocketClosing(fd);
        return ::close(fd);
    }
    static curl_socket_t openSocket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
        if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
        return static_cast<CurlMulti*>(clientp)->onOpenSocket(address->family, address->socktype,
                                                              address->protocol);
    }
};

namespace {
// Idle connections kept per multi (per I/O thread): enough that a burst of ~1,000 concurrent upstream calls
// finds its connections again afterwards instead of reconnecting (libcurl's default shrinks the cache to 4x the
// handles currently added, so it closes most of them as the burst ends).
constexpr long kMaxCachedConnections = 1024;
// Idle connections older than this are not reused (closed instead): below the common 60-75 s server-side
// keep-alive limits, so a request is rarely sent on a connection the provider is closing.
constexpr long kMaxConnectionAgeSeconds = 55;
// Spare easy handles kept per multi: about a burst's worth; each holds libcurl's ~20 KiB of buffers.
constexpr std::size_t kMaxSpareEasyHandles = 256;
} // namespace

std::shared_ptr<CurlMulti> CurlMulti::create(asio::io_context& io) {
    CurlGlobal::ensure();
    return std::shared_ptr<CurlMulti>(new CurlMulti(io));
}

CurlMulti::CurlMulti(asio::io_context& io) : m_io(io), m_timer(io) {
    m_multi = curl_multi_init();
    if (!m_multi) return; // add() reports it, so every call still ends with an onDone
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETFUNCTION, &CurlMultiHooks::socket);
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERFUNCTION, &CurlMultiHooks::timer);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_MAXCONNECTS, kMaxCachedConnections);
}

CurlMulti::~CurlMulti() {
    close();
    teardown(); // nobody can be inside curl while we are destroyed
}

void CurlMulti::runOutsideCurl(std::function<void()> fn) {
    if (m_closing) return;
    if (!insideCurl()) {
        fn();
        return;
    }
    asio::post(m_io, [weak = weak_from_this(), fn = std::move(fn)] {
        auto self = weak.lock();
        if (self && !self->closed()) fn();
    });
}

bool CurlMulti::add(void* easy, std::shared_ptr<CurlTransfer> transfer, std::string& error) {
    if (m_closing) {
        error = "the upstream client is shut down";
        return false;
    }
    if (!m_multi) {
        error = "libcurl could not create a multi handle " + CurlGlobal::initError();
        return false;
    }
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlMultiHooks::closeSocket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &CurlMultiHooks::openSocket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
    curl_easy_setopt(easy, CURLOPT_MAXAGE_CONN, kMaxConnectionAgeSeconds);
    m_transfers[easy] = std::move(transfer);
    CURLMcode rc;
    {
        CurlScope scope(*this);
        rc = curl_multi_add_handle(m_multi, easy);
    }
    if (rc != CURLM_OK) {
        m_transfers.erase(easy);
        error = std::string("cannot start the transfer: ") + curl_multi_strerror(rc);
        return false;
    }
    return true;
}

void CurlMulti::remove(void* easy) {
    auto it = m_transfers.find(easy);
    if (it == m_transfers.end()) return;
    auto keep = std::move(it->second); // the transfer may be calling us from a member function
    m_transfers.erase(it);
    if (m_multi) {
        CurlScope scope(*this);
        curl_multi_remove_handle(m_multi, easy);
    }
    if (m_multi && !m_closing && m_spareEasy.size() < kMaxSpareEasyHandles) {
        // Every option back to its default; the connection stays in the multi's cache, not in the handle.
        curl_easy_reset(easy);
        m_spareEasy.push_back(easy);
        return;
    }
    curl_easy_cleanup(easy);
}

void* CurlMulti::takeEasy() {
    if (m_spareEasy.empty()) return curl_easy_init();
    void* easy = m_spareEasy.back();
    m_spareEasy.pop_back();
    return easy;
}

void CurlMulti::pauseReceive(void* easy, bool paused) {
    if (!m_multi || !m_transfers.contains(easy)) return;
    CurlScope scope(*this);
    curl_easy_pause(easy, paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
}

void CurlMulti::close() {
    if (m_closing) return;
    m_closing = true;
    for (auto& entry : m_transfers)
        entry.second->onMultiClosing();
    if (m_depth == 0) teardown();
}

void CurlMulti::teardown() {
    void* multi = std::exchange(m_multi, nullptr);
    if (!multi) return;
    m_timer.cancel();
    ++m_timerGeneration;
    m_timerAt = m_curlDeadline = Clock::time_point::max();
    // Let go of every descriptor while its fd is still open (curl closes them below).
    for (auto& entry : m_sockets) {
        entry.second->forgotten = true;
        entry.second->descriptor.release();
    }
    m_sockets.clear();
    m_connectionFds.clear();
    auto transfers = std::move(m_transfers);
    m_transfers.clear();
    ++m_depth; // callbacks still arrive during cleanup; they see m_multi == nullptr and do nothing
    for (auto& entry : transfers) {
        curl_multi_remove_handle(multi, entry.first);
        curl_easy_cleanup(entry.first);
    }
    for (void* easy : m_spareEasy) curl_easy_cleanup(easy);
    m_spareEasy.clear();
    curl_multi_cleanup(multi);
    --m_depth;
    for (auto& entry : transfers)
        entry.second->onMultiClosed();
}

void CurlMulti::onSocketUpdate(int fd, int what, void* socketp) {
    if (!m_multi) return;
    auto it = m_sockets.find(fd);
    if (what == CURL_POLL_REMOVE) {
        if (it != m_sockets.end() && m_connectionFds.contains(fd)) {
            // An idle (or paused) connection curl stops watching: keep it registered, with a read wait pending
            // as a sentinel (see watch()).
            it->second->parked = true;
            it->second->wanted = 0;
            watch(it->second);
            return;
        }
        forget(fd);
        return;
    }
    if (it != m_sockets.end() && !socketp && it->second->parked && m_connectionFds.contains(fd)) {
        // The same connection again (curl forgot our pointer when it let go of it). epoll is edge-triggered:
        // the old registration may be used only if no edge can have been missed, i.e. the sentinel read wait
        // is still pending (nothing arrived while parked) and curl wants only to read (an EPOLLOUT edge is
        // never waited for while parked). Otherwise a fresh registration reports the current state.
        if ((what & CURL_POLL_OUT) || !it->second->readWaiting) {
            forget(fd);
            it = m_sockets.end();
        } else {
            curl_multi_assign(m_multi, fd, it->second.get());
        }
    } else if (it != m_sockets.end() && it->second.get() != socketp) {
        // curl does not know our watch for this number: the socket we watched was closed and the number
        // reused by a new one. Drop the stale watch before registering the new socket.
        forget(fd);
        it = m_sockets.end();
    } else if (it != m_sockets.end() && it->second->watchedForWrite && !(what & CURL_POLL_OUT)) {
        // Connected (or the request sent): from now on curl only reads. asio never drops EPOLLOUT from a
        // registration, and re-arming a read wait re-arms the whole registration, so an always-writable socket
        // would wake the loop once more for every event read from it. A fresh registration (two system calls,
        // once per connection) watches reads only.
        forget(fd);
        it = m_sockets.end();
    }
    std::shared_ptr<SocketWatch> socket;
    if (it == m_sockets.end()) {
        socket = std::make_shared<SocketWatch>(m_io, fd);
        boost::system::error_code ec;
        socket->descriptor.assign(fd, ec);
        if (ec) return; // cannot watch it; the transfer's own deadlines still end it
        m_sockets.emplace(fd, socket);
        curl_multi_assign(m_multi, fd, socket.get());
    } else {
        socket = it->second;
    }
    socket->parked = false;
    socket->wanted = what & (CURL_POLL_IN | CURL_POLL_OUT);
    watch(socket);
}

void CurlMulti::watch(const std::shared_ptr<SocketWatch>& socket) {
    using Descriptor = asio::posix::stream_descriptor;
    auto arm = [this, &socket](Descriptor::wait_type type, bool& waiting, int direction) {
        waiting = true;
        socket->descriptor.async_wait(type, [weak = weak_from_this(),
                                             watched = std::weak_ptr<SocketWatch>(socket),
                                             direction](const boost::system::error_code& ec) {
            auto self = weak.lock();
            auto s = watched.lock();
            if (!self || !s) return;
            (direction == CURL_CSELECT_IN ? s->readWaiting : s->writeWaiting) = false;
            if (ec == asio::error::operation_aborted) return;
            self->onSocketReady(s, direction, static_cast<bool>(ec));
        });
    };
    // A parked socket keeps a read wait pending as a sentinel: while it is pending, no readiness edge has
    // been consumed unseen, so the registration can be used again as it is.
    if (((socket->wanted & CURL_POLL_IN) || socket->parked) && !socket->readWaiting)
        arm(Descriptor::wait_read, socket->readWaiting, CURL_CSELECT_IN);
    if ((socket->wanted & CURL_POLL_OUT) && !socket->writeWaiting) {
        socket->watchedForWrite = true;
        arm(Descriptor::wait_write, socket->writeWaiting, CURL_CSELECT_OUT);
    }
}

void CurlMulti::onSocketReady(const std::shared_ptr<SocketWatch>& socket, int direction, bool failed) {
    if (socket->forgotten || !m_multi) return;
    const int interest = direction == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
    if (!(socket->wanted & interest)) return; // curl stopped caring about this direction meanwhile
    socketAction(socket->fd, direction | (failed ? CURL_CSELECT_ERR : 0));
    // Waits are one-shot: watch again for as long as curl wants it. Re-arming makes asio re-check readiness,
    // so data curl left unread is not lost to edge triggering. After an error curl decides; no busy loop on
    // it.
    if (!socket->forgotten && m_multi && !failed) watch(socket);
}

void CurlMulti::onTimerUpdate(long timeoutMs) {
    if (!m_multi) return;
    if (timeoutMs < 0) {
        // A pending wait is left to lapse (cancelling it would cost as much as arming one).
        m_curlDeadline = Clock::time_point::max();
        return;
    }
    if (timeoutMs == 0) {
        // "As soon as possible", but never from inside this callback (that would re-enter curl): posted, which
        // costs no system call, where a timer would cost one or two.
        m_curlDeadline = Clock::time_point::min();
        if (m_kickPosted) return;
        m_kickPosted = true;
        asio::post(m_io, [weak = weak_from_this()] {
            auto self = weak.lock();
            if (!self) return;
            self->m_kickPosted = false;
            if (self->m_multi && self->m_curlDeadline == Clock::time_point::min()) self->onCurlTimeout();
        });
        return;
    }
    m_curlDeadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    if (m_timerAt > m_curlDeadline) armTimer(m_curlDeadline); // else the earlier wait re-arms when it fires
}

void CurlMulti::armTimer(Clock::time_point at) {
    m_timerAt = at;
    const unsigned generation = ++m_timerGeneration;
    m_timer.expires_at(at);
    m_timer.async_wait([weak = weak_from_this(), generation](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || generation != self->m_timerGeneration) return; // re-armed (or torn down) meanwhile
        self->m_timerAt = Clock::time_point::max();
        if (!ec) self->onTimer();
    });
}

void CurlMulti::onTimer() {
    if (!m_multi || m_curlDeadline == Clock::time_point::max()) return;
    if (Clock::now() < m_curlDeadline) {
        armTimer(m_curlDeadline); // armed for an earlier deadline that curl since moved on
        return;
    }
    onCurlTimeout();
}

void CurlMulti::onCurlTimeout() {
    // curl's timeout is spent. On a timeout action curl forgets the timeout it last reported, so it reports any
    // timeout still pending afterwards from inside this call (also when it ran early and nothing expired).
    m_curlDeadline = Clock::time_point::max();
    socketAction(CURL_SOCKET_TIMEOUT, 0);
}

void CurlMulti::onSocketClosing(int fd) {
    m_connectionFds.erase(fd);
    forget(fd);
}

int CurlMulti::onOpenSocket(int family, int type, int protocol) {
    const int fd = ::socket(family, type | SOCK_CLOEXEC, protocol);
    if (fd >= 0 && m_multi) m_connectionFds.insert(fd);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
        // curl reports this as "couldn't connect", which would be blamed on the provider.
        m_localSocketErrno = errno;
        m_localSocketErrorAt = std::chrono::steady_clock::now();
    }
    return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

std::optional<int> CurlMulti::localSocketErrorSince(std::chrono::steady_clock::time_point since) const {
    if (m_localSocketErrno == 0 || m_localSocketErrorAt < since) return std::nullopt;
    return m_localSocketErrno;
}

void CurlMulti::forget(int fd) {
    auto it = m_sockets.find(fd);
    if (it == m_sockets.end()) return;
    auto socket = std::move(it->second);
    m_sockets.erase(it);
    socket->forgotten = true;
    // release(), never close(): the fd is curl's. It also deregisters from epoll and aborts our pending
    // waits.
    socket->descriptor.release();
}

void CurlMulti::socketAction(int fd, int events) {
    if (!m_multi) return;
    int running = 0;
    {
        CurlScope scope(*this);
        curl_multi_socket_action(m_multi, fd, events, &running);
    }
    drainDone();
}

void CurlMulti::drainDone() {
    while (m_multi) { // a transfer's onDone may close the client
        int left = 0;
        CURLMsg* message = curl_multi_info_read(m_multi, &left);
        if (!message) break;
        if (message->msg != CURLMSG_DONE) continue;
        void* easy = message->easy_handle; // `message` dies with the handle's removal
        const int code = message->data.result;
        auto it = m_transfers.find(easy);
        if (it == m_transfers.end()) continue;
        auto transfer = it->second;
        transfer->onCurlDone(code);
    }
}

} // namespace fusebox
