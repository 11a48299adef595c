#include "proxy/IoPool.h"

#include <algorithm>

namespace fusebox {

IoPool::IoPool(int threads) {
    const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) {
        // Concurrency hint 1: each context is run by exactly one thread, so Asio can skip its internal locking.
        m_contexts.push_back(std::make_unique<boost::asio::io_context>(1));
        m_guards.push_back(boost::asio::make_work_guard(*m_contexts.back()));
    }
}

IoPool::~IoPool() { stop(); }

void IoPool::start() {
    for (auto& context : m_contexts) m_threads.emplace_back([&context] { context->run(); });
}

void IoPool::stop() {
    for (auto& guard : m_guards) guard.reset();
    for (auto& context : m_contexts) context->stop();
    for (auto& thread : m_threads)
        if (thread.joinable()) thread.join();
    m_threads.clear();
}

} // namespace fusebox
