#pragma once
// The engine's I/O threads: one io_context per thread (the usual answer for Asio servers), so a connection, its
// upstream calls and their libcurl multi handle all live on one thread and need no locks.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace fusebox {

class IoPool {
public:
    explicit IoPool(int threads); // 0: one per core
    ~IoPool();

    std::size_t size() const { return m_contexts.size(); }
    boost::asio::io_context& context(std::size_t i) { return *m_contexts[i]; }
    // Round-robin, for spreading new connections.
    std::size_t nextIndex() { return m_next.fetch_add(1, std::memory_order_relaxed) % m_contexts.size(); }

    void start();
    // Stops every loop and joins the threads. Idempotent.
    void stop();

private:
    using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
    std::vector<std::unique_ptr<boost::asio::io_context>> m_contexts;
    std::vector<WorkGuard> m_guards;
    std::vector<std::thread> m_threads;
    std::atomic<std::size_t> m_next{0};
};

} // namespace fusebox
