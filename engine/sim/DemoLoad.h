#pragma once
// `--demo`: a light synthetic agent load, so the console has something to show. A few requests a second to the
// demo route through Fusebox's own proxy port, mixing streamed and non-streamed chat completions, from an async
// Beast client on its own thread. Nothing here blocks: stop() cancels what is in flight and joins the thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace fusebox::sim {

class DemoLoad {
public:
    struct Options {
        std::string host = "127.0.0.1";
        uint16_t port = 0;
        std::string model = "demo"; // the route name
        double requestsPerSecond = 4;
        int streamEvery = 2; // every Nth request asks for a streamed answer
        std::chrono::milliseconds requestTimeout{30'000};
    };

    explicit DemoLoad(Options options);
    ~DemoLoad(); // stops
    DemoLoad(const DemoLoad&) = delete;
    DemoLoad& operator=(const DemoLoad&) = delete;

    void start();
    void stop(); // idempotent

    uint64_t sent() const { return m_sent.load(); }
    uint64_t answered() const { return m_answered.load(); } // any complete HTTP answer, errors included
    uint64_t succeeded() const { return m_succeeded.load(); } // 2xx

    class Impl;

private:
    Options m_options;
    std::unique_ptr<Impl> m_impl;
    std::thread m_thread;
    std::atomic<uint64_t> m_sent{0};
    std::atomic<uint64_t> m_answered{0};
    std::atomic<uint64_t> m_succeeded{0};
};

} // namespace fusebox::sim
