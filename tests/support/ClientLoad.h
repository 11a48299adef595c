#pragma once
// Client traffic that runs while a test breaks things: one thread per proxy port, each sending chat requests
// on a kept-alive connection, one after another, and counting how each ended. The fleet tests' "zero failed
// requests" is this count.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fusebox::test {

class ClientLoad {
  public:
    // `model` picks the route; `pause` is the gap between one client's requests.
    ClientLoad(std::vector<uint16_t> ports, std::string model = "gpt-sim",
               std::chrono::milliseconds pause = std::chrono::milliseconds(5));
    ~ClientLoad(); // stops
    ClientLoad(const ClientLoad&) = delete;
    ClientLoad& operator=(const ClientLoad&) = delete;

    void stop(); // waits for every client's request in flight
    int succeeded() const { return m_ok; }
    int failed() const { return m_failed; }
    int total() const { return m_ok + m_failed; }
    // Up to the first ten failures: "port P: status S, <error or the body's start>".
    std::vector<std::string> failures() const;
    // "N ok, M failed: ..." for a test's failure message.
    std::string summary() const;

  private:
    void run(uint16_t port);

    std::string m_body;
    std::chrono::milliseconds m_pause;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_ok{0};
    std::atomic<int> m_failed{0};
    mutable std::mutex m_mutex;
    std::vector<std::string> m_failures;
    std::vector<std::thread> m_threads;
};

} // namespace fusebox::test
