#pragma once
// When ClientSession starts watching a request's client for a departure: not at dispatch but a moment later
// (`delay` to twice that), for the requests still being answered then. Starting a watch costs a system call
// (Asio re-arms the socket in epoll for a wait), and most requests on a local hop are answered within
// milliseconds; a client that leaves a long call (an LLM thinking for seconds) is still noticed within that
// moment, and its upstream call cancelled. One per I/O thread, used on that thread only: no lock.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace fusebox {

class ClientSession;

class DeferredWatches {
  public:
    DeferredWatches(boost::asio::io_context& io, std::chrono::milliseconds delay);
    DeferredWatches(const DeferredWatches&) = delete;
    DeferredWatches& operator=(const DeferredWatches&) = delete;

    // Calls session->watchRequest(requestSeq) once the delay has passed, if the session is still there.
    void add(const std::shared_ptr<ClientSession>& session, uint64_t requestSeq);

  private:
    struct Entry {
        std::weak_ptr<ClientSession> session;
        uint64_t requestSeq;
    };
    void arm();
    void onTick();

    boost::asio::steady_timer m_timer;
    std::chrono::milliseconds m_delay;
    std::vector<Entry> m_arrived; // since the last tick
    std::vector<Entry> m_due;     // before the last tick: started at the next
    bool m_ticking = false;       // the timer runs only while there is something to start: idle means no wake-ups
};

} // namespace fusebox
