#pragma once
// The processes a benchmark starts and watches: Fusebox and nginx as children (never outliving the load
// generator), and what /proc says about them (RSS, CPU time, open descriptors).
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace bench {

// VmRSS / VmHWM of a process in kB; -1 when unreadable (the process is gone).
long procStatusKb(pid_t pid, const char* key);
// utime + stime of a process, in seconds; -1 when unreadable.
double procCpuSeconds(pid_t pid);
// The same for a process and its children (nginx's master and its workers).
double treeCpuSeconds(pid_t pid);
double selfCpuSeconds();
std::string loadAverage();
int openFdCount(pid_t pid);

// Samples a process's VmRSS every few ms on its own thread; the peak can be reset between phases.
class RssSampler {
  public:
    explicit RssSampler(pid_t pid);
    ~RssSampler();
    RssSampler(const RssSampler&) = delete;
    RssSampler& operator=(const RssSampler&) = delete;
    long resetPeak() { return m_peak.exchange(0); }
    long peak() const { return m_peak.load(); }

  private:
    void run();
    pid_t m_pid;
    std::atomic<bool> m_stop{false};
    std::atomic<long> m_peak{0};
    std::thread m_thread;
};

struct Child {
    pid_t pid = -1;
    int stdoutFd = -1;
    uint16_t port = 0;
};

// `fusebox --headless --config CONFIG --listen 127.0.0.1:0`, stderr to `logPath`; waits (up to 10 s) for its
// "listening on" line and takes the port from it.
bool spawnFusebox(const std::string& exe, const std::string& config, const std::string& logPath, Child& child,
                  std::string& error);

// nginx as a plain SSE relay to 127.0.0.1:upstreamPort (proxy_buffering off, HTTP/1.1 keep-alive upstream
// connections), `workers` worker processes, its files under `dir`; waits (up to 10 s) until it accepts.
bool spawnNginx(const std::string& exe, const std::string& dir, uint16_t upstreamPort, int workers, Child& child,
                std::string& error);

// SIGTERM (Fusebox drains for up to 10 s; nginx stops at once), then SIGKILL.
void stopChild(Child& child);

} // namespace bench
