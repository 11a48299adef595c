#pragma once
// redis.url (CONTRACT §5): redis://[[user]:password@]host[:port][/db] or unix:///path/to/socket[?db=N].
// Parsed once by the config loader (to report a bad URL with its key path) and again by the fleet to connect.
#include <optional>
#include <string>

namespace fusebox {

struct RedisUrl {
    bool unixSocket = false;
    std::string host; // name or IP literal (brackets removed); the socket path for unix://
    int port = 6379;
    int db = 0;
    std::string user;     // Redis 6 ACL user; empty: "default"
    std::string password; // from the URL; redis.password wins when both are set
    // host:port or the socket path, for log lines: never the password.
    std::string display() const;
};

// nullopt with `error` set (never echoing the URL, which may carry a password).
std::optional<RedisUrl> parseRedisUrl(const std::string& url, std::string& error);

} // namespace fusebox
