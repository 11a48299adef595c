#pragma once
// A real redis-server for the fleet tests, started by the test on a free loopback port (never the system
// service): no persistence, its own temporary directory. It can be killed, frozen (SIGSTOP), thawed and
// restarted empty on the same port, which is what the degraded-mode scenarios need.
#include <QProcess>
#include <QTemporaryDir>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fusebox::test {

class RedisServer {
public:
    struct Options {
        std::string password;   // requirepass when set
        bool unixSocket = false; // also listen on a socket in the temporary directory
    };
    RedisServer() : RedisServer(Options{}) {}
    explicit RedisServer(Options options);
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    // Starts it (on the same port as before, when restarting) and waits until it answers PING. False with
    // error() when it cannot; a test should QVERIFY2(redis.start(), redis.error().c_str()).
    bool start();
    void kill();    // SIGKILL: gone at once, data lost (no persistence)
    void freeze();  // SIGSTOP: connections stay open, nothing answers
    void thaw();    // SIGCONT
    bool restartEmpty() { kill(); return start(); }
    bool running() const;

    uint16_t port() const { return m_port; }
    std::string url(int db = 0) const; // redis://127.0.0.1:PORT/DB
    std::string socketPath() const;    // with Options::unixSocket
    const std::string& error() const { return m_error; }

    // One command over a fresh blocking connection (hiredis' synchronous API), for tests to look at keys.
    // The reply flattened to text: a string or status as is, an integer in decimal, an array as its elements
    // joined by '\n', nil as "(nil)"; std::nullopt when the server cannot be reached or answers an error.
    std::optional<std::string> command(const std::vector<std::string>& argv,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(2)) const;

private:
    bool startOnce();
    Options m_options;
    QTemporaryDir m_dir;
    QProcess m_process;
    uint16_t m_port = 0;
    std::string m_error;
};

} // namespace fusebox::test
