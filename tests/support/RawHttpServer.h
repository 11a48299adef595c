#pragma once
// A raw-TCP HTTP/1.1 server for tests of the upstream client: listens on 127.0.0.1, port 0, on its own
// thread, reads each request (head + Content-Length body) and answers it with a script of raw steps (send
// these bytes, wait, wait for a condition, hang, close), so tests can produce what a real server library
// never would: a cut body, a stall mid-stream, garbage. Connections stay open between requests (keep-alive)
// unless a script closes them. Counts accepted connections and connections the client closed, and records
// every request.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fusebox::test {

struct RawRequest {
    int connection = 0; // 1-based, in order of acceptance
    std::string method;
    std::string target;
    std::string head; // request line and headers as received, ending with the blank line
    std::string body;
};

class RawHttpServer {
  public:
    struct Step {
        enum class Kind { Send, Wait, WaitUntil, Run, Hang, Close };
        Kind kind = Kind::Send;
        std::string bytes;
        std::chrono::milliseconds delay{0};
        std::function<bool()> condition; // WaitUntil; called on the server thread
        std::function<void()> action;    // Run; called on the server thread
    };
    using Script = std::vector<Step>;
    using Handler = std::function<Script(const RawRequest&)>; // called on the server thread
    using Headers = std::vector<std::pair<std::string, std::string>>;

    static Step send(std::string bytes);
    static Step wait(std::chrono::milliseconds delay);
    // Waits until `condition` holds (polled every few ms), at most `limit`; then goes on either way.
    static Step waitUntil(std::function<bool()> condition,
                          std::chrono::milliseconds limit = std::chrono::seconds(10));
    static Step run(std::function<void()> action);
    static Step hang();  // sends nothing more and waits for the client to close the connection
    static Step close(); // closes the connection

    explicit RawHttpServer(Handler handler);
    explicit RawHttpServer(Script script); // the same answer to every request
    ~RawHttpServer();
    RawHttpServer(const RawHttpServer&) = delete;
    RawHttpServer& operator=(const RawHttpServer&) = delete;

    uint16_t port() const;
    std::string url(std::string_view pathAndQuery = "/") const;
    int connectionsAccepted() const;
    int connectionsClosedByClient() const; // read EOF/reset from the client, or a write to it failed
    std::vector<RawRequest> requests() const;

    // Response text helpers.
    static std::string response(int status, std::string_view body,
                                const Headers& headers = {}); // Content-Length
    static std::string head(int status,
                            const Headers& headers); // status line, headers, blank line; nothing else
    static std::string chunkedHead(int status, std::string_view contentType = "text/event-stream");
    static std::string chunk(std::string_view data);
    static constexpr std::string_view kLastChunk = "0\r\n\r\n";

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// A TCP port on 127.0.0.1 nobody listens on (bound, then released), for "connection refused".
uint16_t unusedLoopbackPort();

} // namespace fusebox::test
