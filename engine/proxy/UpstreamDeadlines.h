#pragma once
// The deadlines of one upstream call (ProviderTimeouts, CONTRACT §2; see UpstreamClient.h), on ONE timer:
//   connect     start -> connected (only when the call makes its connection itself: libcurl keeps its own),
//   first_byte  start -> first response byte, for a call marked `stream` only,
//   idle        gap between two pieces of the response, stopped while paused,
//   total       start -> end.
// The timer is armed lazily: only when the nearest deadline moves earlier than the wait already pending (a wait
// that fires early re-arms for the nearest). Data only moves a time stamp, so a chunk costs no system call.
//
// Single-threaded, on the call's io_context thread, like the call.
#include "config/Config.h"
#include "core/Clock.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fusebox {

class UpstreamDeadlines {
  public:
    // Receives the timeout's message, e.g. "first_byte timeout: first byte not received within 60000 ms".
    using OnExpired = std::function<void(std::string message)>;

    UpstreamDeadlines(boost::asio::io_context& io, const ProviderTimeouts& timeouts, bool stream);
    UpstreamDeadlines(const UpstreamDeadlines&) = delete;
    UpstreamDeadlines& operator=(const UpstreamDeadlines&) = delete;

    // Starts the clock. A wait that fires after `owner` is gone does nothing; onExpired runs at most once.
    void start(std::weak_ptr<void> owner, OnExpired onExpired);
    // Also runs the connect deadline until connected(); `target` names what is being reached, for the message.
    void watchConnect(std::string target);
    void connected();

    // The first response byte arrived (once; later calls do nothing), then every later piece.
    void firstByte();
    void data() { m_lastDataAt = std::chrono::steady_clock::now(); }
    // The caller paused or resumed reading: idle does not run while paused, and restarts on resume.
    void setPaused(bool paused);
    // No deadline fires after this.
    void stop();

    SteadyTime startedAt() const { return m_startedAt; }
    // A call's result carries these: start -> first response byte (0 when none came), start -> now.
    Millis timeToFirstByte() const;
    Millis elapsed() const;

  private:
    SteadyTime nearest() const;
    void schedule();
    void onTimer();

    boost::asio::io_context& m_io;
    ProviderTimeouts m_timeouts;
    bool m_stream;
    std::weak_ptr<void> m_owner;
    OnExpired m_onExpired;

    SteadyTime m_startedAt{};
    SteadyTime m_firstByteAt{};
    SteadyTime m_lastDataAt{};
    bool m_gotFirstByte = false;
    bool m_paused = false;
    bool m_watchingConnect = false;
    std::string m_connectTarget;

    std::optional<boost::asio::steady_timer> m_timer;
    SteadyTime m_timerAt = SteadyTime::max(); // when the pending wait fires; max: none pending
    bool m_stopped = true;
    unsigned m_generation = 0; // tells a stale expiry (already queued when re-armed) from a real one
};

} // namespace fusebox
