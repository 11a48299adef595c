#include "proxy/CurlMulti.h"

#include "proxy/CurlGlobal.h"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <curl/curl.h>
#include <unistd.h>

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
};

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
    curl_easy_cleanup(easy);
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
    // Let go of every descriptor while its fd is still open (curl closes them below).
    for (auto& entry : m_sockets) {
        entry.second->forgotten = true;
        entry.second->descriptor.release();
    }
    m_sockets.clear();
    auto transfers = std::move(m_transfers);
    m_transfers.clear();
    ++m_depth; // callbacks still arrive during cleanup; they see m_multi == nullptr and do nothing
    for (auto& entry : transfers) {
        curl_multi_remove_handle(multi, entry.first);
        curl_easy_cleanup(entry.first);
    }
    curl_multi_cleanup(multi);
    --m_depth;
    for (auto& entry : transfers)
        entry.second->onMultiClosed();
}

void CurlMulti::onSocketUpdate(int fd, int what, void* socketp) {
    if (!m_multi) return;
    if (what == CURL_POLL_REMOVE) {
        forget(fd);
        return;
    }
    auto it = m_sockets.find(fd);
    if (it != m_sockets.end() && it->second.get() != socketp) {
        // curl does not know our watch for this number: the socket we watched was closed and the number
        // reused by a new one. Drop the stale watch before registering the new socket.
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
    if ((socket->wanted & CURL_POLL_IN) && !socket->readWaiting)
        arm(Descriptor::wait_read, socket->readWaiting, CURL_CSELECT_IN);
    if ((socket->wanted & CURL_POLL_OUT) && !socket->writeWaiting)
        arm(Descriptor::wait_write, socket->writeWaiting, CURL_CSELECT_OUT);
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
        m_timer.cancel();
        return;
    }
    // 0 means "as soon as possible", but never from inside this callback (that would re-enter curl): an
    // expired asio timer completes from the event loop, after curl has returned.
    m_timer.expires_after(std::chrono::milliseconds(timeoutMs));
    m_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->socketAction(CURL_SOCKET_TIMEOUT, 0);
    });
}

void CurlMulti::onSocketClosing(int fd) {
    forget(fd);
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
