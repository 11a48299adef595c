#include "fleet/RedisConnection.h"

#include "fleet/RedisAsioAdapter.h"

#include <boost/asio/post.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <utility>

namespace fusebox::fleet {

namespace {
constexpr auto kWatchdogPeriod = std::chrono::milliseconds(100);

struct PendingReply {
    RedisConnection::ReplyHandler handler;
};
} // namespace

std::string replyText(const redisReply* reply) {
    if (reply == nullptr) return {};
    switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR: return std::string(reply->str, reply->len);
    default: return {};
    }
}

bool isErrorReply(const redisReply* reply) { return reply != nullptr && reply->type == REDIS_REPLY_ERROR; }

RedisConnection::RedisConnection(boost::asio::io_context& io, std::string name, std::chrono::milliseconds timeout)
    : m_io(io), m_name(std::move(name)), m_timeout(timeout), m_watchdog(io) {}

RedisConnection::~RedisConnection() { close(); }

void RedisConnection::open(const RedisEndpoint& endpoint, const RedisLogin& login,
                           std::function<void(std::string)> onReady, std::function<void(std::string)> onLost) {
    close();
    m_finished = false;
    m_onReady = std::move(onReady);
    m_onLost = std::move(onLost);
    // Both calls return at once: the address is an IP literal or a socket path (no DNS here), and the connect
    // itself is non-blocking; its end is seen as the socket becoming writable.
    redisAsyncContext* ac = endpoint.unixSocket ? redisAsyncConnectUnix(endpoint.address.c_str())
                                                : redisAsyncConnect(endpoint.address.c_str(), endpoint.port);
    if (ac == nullptr || ac->err) {
        std::string why = ac ? std::string(ac->errstr) : "out of memory";
        if (ac) redisAsyncFree(ac);
        lostBeforeOpen(std::move(why));
        return;
    }
    if (!attachToAsio(ac, m_io)) {
        redisAsyncFree(ac);
        lostBeforeOpen("cannot watch the socket");
        return;
    }
    ac->data = this;
    redisAsyncSetConnectCallback(ac, &RedisConnection::onConnected);
    redisAsyncSetDisconnectCallback(ac, &RedisConnection::onDisconnected);
    m_context = ac;
    armWatchdog();

    // Queued at once: the first write is also what completes the non-blocking connect.
    auto step = [this](const char* what) {
        return [this, what](const redisReply* reply) {
            if (reply == nullptr) return; // the connection ended; onConnected/onDisconnected say why
            if (isErrorReply(reply)) fail(std::string(what) + " failed: " + replyText(reply));
        };
    };
    if (!login.password.empty()) {
        std::vector<std::string> auth = {"AUTH"};
        if (!login.user.empty()) auth.push_back(login.user);
        auth.push_back(login.password);
        command(auth, step("AUTH"));
    }
    if (login.db != 0) command({"SELECT", std::to_string(login.db)}, step("SELECT"));
    command({"PING"}, [this](const redisReply* reply) {
        if (reply == nullptr || isErrorReply(reply) || m_finished) {
            if (isErrorReply(reply)) fail("PING failed: " + replyText(reply));
            return;
        }
        m_ready = true;
        if (auto ready = std::exchange(m_onReady, {})) boost::asio::post(m_io, [ready] { ready({}); });
    });
}

void RedisConnection::lostBeforeOpen(std::string why) {
    m_finished = true;
    if (auto ready = std::exchange(m_onReady, {}))
        boost::asio::post(m_io, [ready, why = std::move(why)] { ready(why); });
    m_onLost = {};
}

void RedisConnection::report(std::string why) {
    if (m_finished) return;
    m_finished = true;
    const bool wasReady = std::exchange(m_ready, false);
    m_outstanding.clear();
    m_watchdog.cancel();
    // Posted: the owner may open again or close the other connection, which must not happen inside hiredis.
    if (!wasReady) {
        if (auto ready = std::exchange(m_onReady, {}))
            boost::asio::post(m_io, [ready, why = std::move(why)] { ready(why); });
    } else if (auto onLost = std::exchange(m_onLost, {})) {
        boost::asio::post(m_io, [onLost, why = std::move(why)] { onLost(why); });
    }
    m_onReady = {};
    m_onLost = {};
}

void RedisConnection::fail(std::string why) {
    report(std::move(why));
    if (redisAsyncContext* ac = std::exchange(m_context, nullptr)) redisAsyncFree(ac); // deferred when in a callback
}

void RedisConnection::close() {
    m_finished = true;
    m_ready = false;
    m_onReady = {};
    m_onLost = {};
    m_onSubscribed = {};
    m_onMessage = {};
    m_outstanding.clear();
    m_watchdog.cancel();
    if (redisAsyncContext* ac = std::exchange(m_context, nullptr)) redisAsyncFree(ac);
}

void RedisConnection::onConnected(const redisAsyncContext* ac, int status) {
    if (status == REDIS_OK) return;
    auto* self = static_cast<RedisConnection*>(ac->data);
    if (self == nullptr || self->m_context != ac) return;
    // hiredis frees the context itself after this callback.
    self->m_context = nullptr;
    self->report(ac->errstr[0] ? std::string(ac->errstr) : "cannot connect");
}

void RedisConnection::onDisconnected(const redisAsyncContext* ac, int status) {
    auto* self = static_cast<RedisConnection*>(ac->data);
    if (self == nullptr || self->m_context != ac) return;
    self->m_context = nullptr;
    self->report(status == REDIS_OK ? "connection closed" : (ac->errstr[0] ? std::string(ac->errstr) : "connection lost"));
}

void RedisConnection::onReply(redisAsyncContext* ac, void* reply, void* privdata) {
    std::unique_ptr<PendingReply> pending(static_cast<PendingReply*>(privdata));
    auto* self = static_cast<RedisConnection*>(ac->data);
    if (reply != nullptr && self != nullptr && self->m_context == ac && !self->m_outstanding.empty())
        self->m_outstanding.pop_front();
    if (pending->handler) pending->handler(static_cast<const redisReply*>(reply));
}

void RedisConnection::onSubscription(redisAsyncContext* ac, void* r, void*) {
    auto* self = static_cast<RedisConnection*>(ac->data);
    const auto* reply = static_cast<const redisReply*>(r);
    if (reply == nullptr || self == nullptr || self->m_context != ac) return;
    if (isErrorReply(reply)) {
        if (!self->m_outstanding.empty()) self->m_outstanding.pop_front();
        if (auto confirmed = std::exchange(self->m_onSubscribed, {})) confirmed(false);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
    const std::string kind = replyText(reply->element[0]);
    if (kind == "subscribe") {
        if (!self->m_outstanding.empty()) self->m_outstanding.pop_front();
        if (auto confirmed = std::exchange(self->m_onSubscribed, {})) confirmed(true);
    } else if (kind == "message" && self->m_onMessage) {
        const MessageHandler handler = self->m_onMessage; // the handler may close this connection
        handler(replyText(reply->element[1]), replyText(reply->element[2]));
    }
}

bool RedisConnection::send(const std::vector<std::string>& argv, void (*callback)(redisAsyncContext*, void*, void*),
                           void* privdata) {
    if (m_context == nullptr || argv.empty()) return false;
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    args.reserve(argv.size());
    lengths.reserve(argv.size());
    for (const auto& a : argv) args.push_back(a.data()), lengths.push_back(a.size());
    if (redisAsyncCommandArgv(m_context, callback, privdata, static_cast<int>(args.size()), args.data(),
                              lengths.data()) != REDIS_OK)
        return false;
    m_outstanding.push_back(std::chrono::steady_clock::now());
    return true;
}

bool RedisConnection::command(const std::vector<std::string>& argv, ReplyHandler reply) {
    auto* pending = new PendingReply{std::move(reply)};
    if (send(argv, &RedisConnection::onReply, pending)) return true;
    delete pending;
    return false;
}

bool RedisConnection::subscribe(const std::string& channel, std::function<void(bool)> confirmed,
                                MessageHandler onMessage) {
    m_onSubscribed = std::move(confirmed);
    m_onMessage = std::move(onMessage);
    return send({"SUBSCRIBE", channel}, &RedisConnection::onSubscription, nullptr);
}

void RedisConnection::armWatchdog() {
    m_watchdog.expires_after(kWatchdogPeriod);
    m_watchdog.async_wait([this](const boost::system::error_code& ec) {
        if (ec || m_context == nullptr) return;
        if (!m_outstanding.empty() && std::chrono::steady_clock::now() - m_outstanding.front() > m_timeout) {
            fail(m_name + ": no answer from Redis in " + std::to_string(m_timeout.count()) + " ms");
            return;
        }
        armWatchdog();
    });
}

} // namespace fusebox::fleet
