#include "proxy/PlainHttpPool.h"

#include "proxy/PlainHttpCall.h"

#include <algorithm>
#include <utility>

namespace fusebox {

std::optional<boost::asio::ip::tcp::socket> PlainHttpPool::takeIdle(const std::string& key) {
    auto found = m_idle.find(key);
    if (found == m_idle.end()) return std::nullopt;
    auto& parked = found->second;
    const auto oldest = std::chrono::steady_clock::now() - kIdleLifetime;
    // Oldest first: the expired ones are at the front.
    const auto fresh = std::find_if(parked.begin(), parked.end(), [&](const Idle& idle) { return idle.since >= oldest; });
    parked.erase(parked.begin(), fresh); // their sockets close here
    if (parked.empty()) return std::nullopt;
    boost::asio::ip::tcp::socket socket = std::move(parked.back().socket);
    parked.pop_back();
    return socket;
}

void PlainHttpPool::parkIdle(const std::string& key, boost::asio::ip::tcp::socket socket) {
    if (m_closed) return;
    auto& parked = m_idle[key];
    if (parked.size() >= kIdlePerKey) parked.erase(parked.begin());
    parked.push_back(Idle{std::move(socket), std::chrono::steady_clock::now()});
}

const std::optional<PlainHttpUrl>& PlainHttpPool::parsedUrl(const std::string& url) {
    constexpr std::size_t kRemembered = 256; // URLs are per provider and endpoint: a handful in practice
    if (auto found = m_urls.find(url); found != m_urls.end()) return found->second;
    if (m_urls.size() >= kRemembered) m_urls.clear();
    return m_urls.emplace(url, parsePlainHttpUrl(url)).first->second;
}

void PlainHttpPool::callStarted(const std::shared_ptr<PlainHttpCall>& call) {
    m_calls.emplace(call.get(), call);
}

void PlainHttpPool::callEnded(PlainHttpCall* call) {
    m_calls.erase(call);
}

void PlainHttpPool::close() {
    if (m_closed) return;
    m_closed = true;
    m_idle.clear();
    // Held while they are told: dropping one call's callbacks may release the last hold on another.
    std::vector<std::shared_ptr<PlainHttpCall>> calls;
    calls.reserve(m_calls.size());
    for (const auto& [raw, weak] : m_calls)
        if (auto call = weak.lock()) calls.push_back(std::move(call));
    m_calls.clear();
    for (const auto& call : calls)
        call->onPoolClosing();
}

} // namespace fusebox
