#include "proxy/DeferredWatches.h"

#include "proxy/ClientSession.h"

namespace fusebox {

DeferredWatches::DeferredWatches(boost::asio::io_context& io, std::chrono::milliseconds delay)
    : m_timer(io), m_delay(delay) {}

void DeferredWatches::add(const std::shared_ptr<ClientSession>& session, uint64_t requestSeq) {
    m_arrived.push_back({session, requestSeq});
    if (!m_ticking) arm();
}

void DeferredWatches::arm() {
    m_ticking = true;
    m_timer.expires_after(m_delay);
    m_timer.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) onTick(); // (an error: the server is stopping)
    });
}

void DeferredWatches::onTick() {
    std::vector<Entry> due = std::move(m_due);
    m_due = std::move(m_arrived);
    m_arrived.clear();
    for (const auto& entry : due)
        if (auto session = entry.session.lock()) session->watchRequest(entry.requestSeq);
    if (m_due.empty() && m_arrived.empty()) m_ticking = false;
    else arm();
}

} // namespace fusebox
