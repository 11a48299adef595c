#pragma once
// One libcurl multi handle driven by one Boost.Asio io_context through the multi *socket* interface: curl
// says which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION); asio
// waits and calls curl_multi_socket_action back. Knows nothing of HTTP: that is UpstreamTransfer's business.
//
// Threading: single-threaded. Everything, including every callback, runs on the io_context's one thread.
//
// Re-entrancy: libcurl must not be called from inside its own callbacks. Every call into curl that can call
// back into us is counted (insideCurl()); work that must call curl but was asked for from inside a callback
// (a user cancelling from onData, destroying the client from onHead, ...) is deferred with runOutsideCurl().
// Teardown asked for from inside curl runs as soon as the outermost curl call returns.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace fusebox {

// A transfer as the multi sees it.
class CurlTransfer {
  public:
    virtual ~CurlTransfer() = default;
    // curl finished the transfer with `curlCode` (a CURLcode). Runs outside libcurl; the handle is still
    // added.
    virtual void onCurlDone(int curlCode) = 0;
    // The multi is closing: from now on no user callback may run. May be called from inside a curl callback,
    // so it must not call curl, and must not destroy the user's callbacks (one may be running further up the
    // stack).
    virtual void onMultiClosing() = 0;
    // The handle has been removed and cleaned up; no user code is on the stack: release everything.
    virtual void onMultiClosed() = 0;
};

class CurlMulti : public std::enable_shared_from_this<CurlMulti> {
  public:
    static std::shared_ptr<CurlMulti> create(boost::asio::io_context& io);
    ~CurlMulti();
    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;

    boost::asio::io_context& io() { return m_io; }
    bool insideCurl() const { return m_depth > 0; }
    bool closed() const { return m_closing; }

    // Runs `fn` now when outside libcurl, else posts it; a posted `fn` is dropped if the multi closed
    // meanwhile.
    void runOutsideCurl(std::function<void()> fn);

    // Adds an easy handle (CURL*) and takes ownership of it on success; `transfer` is kept alive until the
    // handle is removed. Outside libcurl only. On failure returns false with `error`, and the caller still
    // owns `easy`.
    bool add(void* easy, std::shared_ptr<CurlTransfer> transfer, std::string& error);
    // Removes an added easy handle (kept for takeEasy(), else cleaned up); the transfer's onCurlDone is never
    // called for it. Outside only.
    void remove(void* easy);
    // An easy handle (CURL*) with every option at its default: one a finished transfer left (curl_easy_reset),
    // else a new one; nullptr when libcurl cannot make one. Creating and cleaning up a handle per request cost
    // more than the rest of libcurl's work on a reused connection.
    void* takeEasy();
    // curl_easy_pause for receiving. Outside only. Resuming may deliver buffered data (the write callback)
    // before this returns.
    void pauseReceive(void* easy, bool paused);

    // Transfers started and not yet ended, including ones not (yet) added: for inFlight().
    void transferStarted() { ++m_live; }
    void transferEnded() { --m_live; }
    std::size_t liveTransfers() const { return m_live; }

    // The errno of the last socket() that failed for want of local resources (descriptors, buffers, memory),
    // if that was at or after `since`: a connect failure then is this machine's, not the provider's.
    std::optional<int> localSocketErrorSince(std::chrono::steady_clock::time_point since) const;

    // Silences every transfer now and tears libcurl down (now, or when the outermost curl call returns).
    void close();

  private:
    struct SocketWatch;
    friend struct CurlMultiHooks;

    explicit CurlMulti(boost::asio::io_context& io);

    class CurlScope;
    void teardown();

    // libcurl's callbacks.
    void onSocketUpdate(int fd, int what, void* socketp);
    void onTimerUpdate(long timeoutMs);
    void onSocketClosing(int fd);
    int onOpenSocket(int family, int type, int protocol);

    void watch(const std::shared_ptr<SocketWatch>& socket);
    void onSocketReady(const std::shared_ptr<SocketWatch>& socket, int direction, bool failed);
    void forget(int fd);
    void socketAction(int fd, int events);
    void drainDone();

    // curl's one timeout, kept lazily: m_timer is armed only when curl's deadline moves earlier than the wait
    // already pending; a wait that fires before the deadline re-arms itself. A 0 ms timeout is posted instead.
    using Clock = std::chrono::steady_clock;
    void armTimer(Clock::time_point at);
    void onTimer();
    void onCurlTimeout();

    Clock::time_point m_curlDeadline = Clock::time_point::max(); // max: curl wants no timeout
    Clock::time_point m_timerAt = Clock::time_point::max();      // when the pending wait fires; max: none
    unsigned m_timerGeneration = 0;
    bool m_kickPosted = false;

    boost::asio::io_context& m_io;
    void* m_multi = nullptr; // CURLM*
    boost::asio::steady_timer m_timer;
    std::unordered_map<int, std::shared_ptr<SocketWatch>> m_sockets;
    // Connection sockets curl opened through us and has not closed yet: their watches stay registered with
    // epoll while the connection idles in curl's cache (CURL_POLL_REMOVE), so a reused connection costs no
    // epoll_ctl.
    std::unordered_set<int> m_connectionFds;
    std::unordered_map<void*, std::shared_ptr<CurlTransfer>> m_transfers;
    std::vector<void*> m_spareEasy; // handles of finished transfers, reset, for takeEasy()
    int m_depth = 0;
    bool m_closing = false;
    int m_localSocketErrno = 0;
    Clock::time_point m_localSocketErrorAt{};
    std::size_t m_live = 0;
};

} // namespace fusebox
