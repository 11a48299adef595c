#pragma once
// One hiredis async connection on the fleet's io_context: connect by address (names are resolved before, since
// redisAsyncConnect would resolve them blocking), AUTH and SELECT from the URL, then commands with callbacks, or
// one subscription. hiredis 0.14 has no timeouts, so an Asio timer gives up on a connection whose oldest command
// has had no answer for too long (a hung or black-holed Redis), which ends the connection like any other loss.
// Single-threaded: every call must be made on the io_context's thread.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

struct redisAsyncContext;
struct redisReply;

namespace fusebox::fleet {

struct RedisEndpoint {
    bool unixSocket = false;
    std::string address; // an IP literal, or the socket path
    int port = 6379;
};

struct RedisLogin {
    std::string user; // empty: AUTH with the password alone
    std::string password;
    int db = 0;
};

class RedisConnection {
public:
    // A reply, or nullptr when the connection went away before it came. An error reply is passed as it is.
    using ReplyHandler = std::function<void(const redisReply*)>;
    using MessageHandler = std::function<void(const std::string& channel, const std::string& message)>;

    RedisConnection(boost::asio::io_context& io, std::string name, std::chrono::milliseconds timeout);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // Connects and logs in. `onReady` is called once: with an empty error once AUTH and SELECT succeeded, or with
    // what went wrong (never a password). After a success, `onLost` is called once when the connection ends.
    void open(const RedisEndpoint& endpoint, const RedisLogin& login, std::function<void(std::string error)> onReady,
              std::function<void(std::string why)> onLost);
    // False (and `reply` is not called) when not open.
    bool command(const std::vector<std::string>& argv, ReplyHandler reply);
    // SUBSCRIBE to one channel; messages arrive on `onMessage`, the confirmation on `confirmed`.
    bool subscribe(const std::string& channel, std::function<void(bool ok)> confirmed, MessageHandler onMessage);
    // Ends the connection at once (pending handlers get nullptr; onLost is not called). Safe to call twice.
    void close();
    bool isOpen() const { return m_context != nullptr; }
    bool ready() const { return m_ready; }

private:
    static void onConnected(const redisAsyncContext* ac, int status);
    static void onDisconnected(const redisAsyncContext* ac, int status);
    static void onReply(redisAsyncContext* ac, void* reply, void* privdata);
    static void onSubscription(redisAsyncContext* ac, void* reply, void* privdata);
    void report(std::string why);         // tells the owner once, posted
    void fail(std::string why);           // report, then free the context (ours to free)
    void lostBeforeOpen(std::string why);
    void armWatchdog();
    bool send(const std::vector<std::string>& argv, void (*callback)(redisAsyncContext*, void*, void*), void* privdata);

    boost::asio::io_context& m_io;
    std::string m_name;
    std::chrono::milliseconds m_timeout;
    redisAsyncContext* m_context = nullptr;
    boost::asio::steady_timer m_watchdog;
    std::deque<std::chrono::steady_clock::time_point> m_outstanding; // send times, oldest first (replies come in order)
    bool m_ready = false;
    bool m_finished = true; // reported (or closed): nothing more is said to the owner
    std::function<void(std::string)> m_onReady;
    std::function<void(std::string)> m_onLost;
    std::function<void(bool)> m_onSubscribed;
    MessageHandler m_onMessage;
};

// The text of a string, status or error reply ("" for other kinds).
std::string replyText(const redisReply* reply);
bool isErrorReply(const redisReply* reply);

} // namespace fusebox::fleet
