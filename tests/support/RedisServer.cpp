#include "RedisServer.h"

#include <hiredis/hiredis.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <csignal>
#include <thread>

namespace fusebox::test {

namespace {

uint16_t pickFreePort() {
    // Bound and released at once: redis-server takes it a moment later. Another process may win that race, so
    // start() tries a few ports.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

std::string flatten(const redisReply* reply) {
    switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: return std::string(reply->str, reply->len);
    case REDIS_REPLY_INTEGER: return std::to_string(reply->integer);
    case REDIS_REPLY_NIL: return "(nil)";
    case REDIS_REPLY_ARRAY: {
        std::string out;
        for (std::size_t i = 0; i < reply->elements; ++i) out += (i ? "\n" : "") + flatten(reply->element[i]);
        return out;
    }
    default: return {};
    }
}

} // namespace

RedisServer::RedisServer(Options options) : m_options(std::move(options)) {
    m_process.setProcessChannelMode(QProcess::MergedChannels);
}

RedisServer::~RedisServer() { kill(); }

bool RedisServer::running() const { return m_process.state() != QProcess::NotRunning; }

std::string RedisServer::url(int db) const {
    return "redis://127.0.0.1:" + std::to_string(m_port) + "/" + std::to_string(db);
}

std::string RedisServer::socketPath() const { return m_dir.path().toStdString() + "/redis.sock"; }

bool RedisServer::start() {
    if (!m_dir.isValid()) {
        m_error = "no temporary directory for redis-server";
        return false;
    }
    const bool fixedPort = m_port != 0; // a restart keeps its port: replicas reconnect to the same address
    for (int attempt = 0; attempt < (fixedPort ? 1 : 5); ++attempt) {
        if (!fixedPort) m_port = pickFreePort();
        if (startOnce()) return true;
    }
    return false;
}

bool RedisServer::startOnce() {
    QStringList args = {"--port", QString::number(m_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                        "--dir", m_dir.path(), "--daemonize", "no", "--loglevel", "warning", "--protected-mode", "no"};
    if (!m_options.password.empty()) args << "--requirepass" << QString::fromStdString(m_options.password);
    if (m_options.unixSocket) args << "--unixsocket" << QString::fromStdString(socketPath()) << "--unixsocketperm" << "700";
    m_process.start("redis-server", args);
    if (!m_process.waitForStarted(5000)) {
        m_error = "cannot run redis-server (scripts/setup installs it): " + m_process.errorString().toStdString();
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        if (m_process.state() == QProcess::NotRunning) break;
        std::vector<std::string> ping = {"PING"};
        if (!m_options.password.empty()) ping = {"AUTH", m_options.password};
        if (command(ping, std::chrono::milliseconds(200))) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    m_process.waitForFinished(100);
    m_error = "redis-server did not answer on port " + std::to_string(m_port) + ": " +
              m_process.readAll().toStdString();
    kill();
    return false;
}

void RedisServer::kill() {
    if (m_process.state() == QProcess::NotRunning) return;
    thaw(); // a stopped process takes SIGKILL too, but its parent sees it only once it runs
    m_process.kill();
    m_process.waitForFinished(5000);
}

void RedisServer::freeze() {
    if (running()) ::kill(static_cast<pid_t>(m_process.processId()), SIGSTOP);
}

void RedisServer::thaw() {
    if (running()) ::kill(static_cast<pid_t>(m_process.processId()), SIGCONT);
}

std::optional<std::string> RedisServer::command(const std::vector<std::string>& argv,
                                                std::chrono::milliseconds timeout) const {
    const timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", m_port, tv);
    if (c == nullptr) return std::nullopt;
    std::optional<std::string> out;
    if (!c->err && redisSetTimeout(c, tv) == REDIS_OK) {
        bool authed = true;
        if (!m_options.password.empty() && argv.front() != "AUTH") {
            auto* auth = static_cast<redisReply*>(redisCommand(c, "AUTH %s", m_options.password.c_str()));
            authed = auth != nullptr && auth->type != REDIS_REPLY_ERROR;
            if (auth) freeReplyObject(auth);
        }
        std::vector<const char*> args;
        std::vector<size_t> lengths;
        for (const auto& a : argv) args.push_back(a.data()), lengths.push_back(a.size());
        auto* reply = authed ? static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), args.data(),
                                                                          lengths.data()))
                             : nullptr;
        if (reply != nullptr && reply->type != REDIS_REPLY_ERROR) out = flatten(reply);
        if (reply) freeReplyObject(reply);
    }
    redisFree(c);
    return out;
}

} // namespace fusebox::test
