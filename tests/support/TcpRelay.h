#pragma once
// A real TCP relay for fault tests: listens on 127.0.0.1 (port 0 unless given), and relays every accepted
// connection to one upstream (a redis-server in the fleet tests) on its own thread. A test puts one relay in
// front of each replica's Redis and turns its mode at will, to make Redis look slow, hung, cut off or gone to
// that replica alone while the others still reach it.
//
// Modes (apply to open connections and to new ones):
//   Pass       bytes go through as they come.
//   Delay      every chunk is held `delay` before it goes on (both directions; order is kept).
//   BlackHole  connections are accepted and bytes are read and held, never forwarded: the peer sees a host
//   that
//              takes everything and never answers (as a SIGSTOPped server or a dropped route). What was held
//              is delivered when the mode returns to Pass or Delay, as TCP would after a partition heals.
//   Cut        every open connection is closed now, and each new one is closed right after it is accepted.
//   Refuse     every open connection is closed and the port stops listening: connects are refused. The same
//   port
//              listens again when the mode leaves Refuse.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace fusebox::test {

class TcpRelay {
  public:
    enum class Mode { Pass, Delay, BlackHole, Cut, Refuse };

    explicit TcpRelay(uint16_t upstreamPort, uint16_t listenPort = 0);
    ~TcpRelay();
    TcpRelay(const TcpRelay&) = delete;
    TcpRelay& operator=(const TcpRelay&) = delete;

    uint16_t port() const;
    std::string url(int db = 0) const; // redis://127.0.0.1:PORT/DB

    // Takes effect on the relay's thread before it returns.
    void setMode(Mode mode, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
    void pass() { setMode(Mode::Pass); }
    void delay(std::chrono::milliseconds d) { setMode(Mode::Delay, d); }
    void blackHole() { setMode(Mode::BlackHole); }
    void cut() { setMode(Mode::Cut); }
    void refuse() { setMode(Mode::Refuse); }
    // Closes every open connection once and stays in the current mode (a blip: clients reconnect at once).
    void closeAll();
    Mode mode() const;

    int connectionsAccepted() const; // every accept since start, closed or not
    int connectionsOpen() const;     // relayed pairs open now
    long long bytesToUpstream() const;
    long long bytesFromUpstream() const;

    struct Impl; // public only so that the relayed sessions (TcpRelay.cpp) can name it

  private:
    std::shared_ptr<Impl> m_impl;
};

} // namespace fusebox::test
