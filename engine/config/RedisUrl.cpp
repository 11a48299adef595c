#include "config/RedisUrl.h"

#include <charconv>
#include <string_view>

namespace fusebox {

namespace {

bool parseInt(std::string_view text, int min, int max, int& out, int base = 10) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
        return false;
    out = value;
    return true;
}

// A password may hold '@' or ':' only percent-encoded (RFC 3986 userinfo), as in every Redis client's URL.
std::string percentDecoded(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        int code = 0;
        if (text[i] == '%' && i + 2 < text.size() + 1 && parseInt(text.substr(i + 1, 2), 0, 255, code, 16)) {
            out += static_cast<char>(code);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

} // namespace

std::string RedisUrl::display() const {
    return unixSocket ? "unix://" + host : (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                                               std::to_string(port);
}

std::optional<RedisUrl> parseRedisUrl(const std::string& text, std::string& error) {
    RedisUrl url;
    std::string_view rest = text;
    if (rest.starts_with("unix://")) {
        rest.remove_prefix(7);
        url.unixSocket = true;
        if (auto q = rest.find('?'); q != std::string_view::npos) {
            const std::string_view query = rest.substr(q + 1);
            rest = rest.substr(0, q);
            if (!query.starts_with("db=") || !parseInt(query.substr(3), 0, 1 << 20, url.db)) {
                error = "unix:// takes only ?db=N after the socket path";
                return std::nullopt;
            }
        }
        if (!rest.starts_with("/")) {
            error = "unix:// needs an absolute socket path (unix:///run/redis/redis.sock)";
            return std::nullopt;
        }
        url.host = std::string(rest);
        return url;
    }
    if (!rest.starts_with("redis://")) {
        error = "must start with redis:// or unix://";
        return std::nullopt;
    }
    rest.remove_prefix(8);
    std::string_view path;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        path = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        const auto colon = userinfo.find(':');
        url.user = percentDecoded(userinfo.substr(0, colon));
        if (colon != std::string_view::npos) url.password = percentDecoded(userinfo.substr(colon + 1));
    }
    std::string_view port;
    if (rest.starts_with("[")) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            error = "an IPv6 host needs its closing ']'";
            return std::nullopt;
        }
        url.host = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
        if (rest.starts_with(":")) port = rest.substr(1);
        else if (!rest.empty()) {
            error = "unexpected text after the host";
            return std::nullopt;
        }
    } else {
        const auto colon = rest.find(':');
        url.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    }
    if (url.host.empty()) {
        error = "names no host (redis://HOST:PORT/DB)";
        return std::nullopt;
    }
    if (!port.empty() && !parseInt(port, 1, 65535, url.port)) {
        error = "has a port that is not a number from 1 to 65535";
        return std::nullopt;
    }
    if (!path.empty() && !parseInt(path, 0, 1 << 20, url.db)) {
        error = "has a database that is not a whole number (redis://HOST:PORT/0)";
        return std::nullopt;
    }
    return url;
}

} // namespace fusebox
