#include "proxy/IoPool.h"

#include "core/Log.h"

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
    for (auto& context : m_contexts)
        m_threads.emplace_back([&context] {
            // Asio lets a handler's exception out of run(). Every request has its own boundary; this one is the
            // last: log it and go on serving everyone else rather than end the process.
            for (;;) {
                try {
                    context->run();
                    return;
                } catch (const std::exception& e) {
                    Log::error("I/O thread caught an exception; serving on", {{"error", e.what()}});
                } catch (...) {
                    Log::error("I/O thread caught an unknown exception; serving on");
                }
            }
        });
}

void IoPool::stop() {
    for (auto& guard : m_guards) guard.reset();
    for (auto& context : m_contexts) context->stop();
    for (auto& thread : m_threads)
        if (thread.joinable()) thread.join();
    m_threads.clear();
}

} // namespace fusebox
