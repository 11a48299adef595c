#include "core/LogThrottle.h"

#include <algorithm>

namespace fusebox {

LogThrottle::LogThrottle(std::size_t maxKeys) : m_maxKeys(std::max<std::size_t>(maxKeys, 1)) {}

std::optional<uint64_t> LogThrottle::admit(std::string_view key, std::chrono::seconds interval, SteadyTime now) {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(std::string(key));
    if (it != m_entries.end() && now < it->second.quietUntil) {
        ++it->second.suppressed;
        return std::nullopt;
    }
    if (it == m_entries.end()) {
        if (m_entries.size() >= m_maxKeys) makeRoom(now);
        it = m_entries.emplace(std::string(key), Entry{}).first;
    }
    const uint64_t suppressed = it->second.suppressed;
    it->second = Entry{now + interval, 0};
    return suppressed;
}

std::size_t LogThrottle::keyCount() const {
    std::lock_guard lock(m_mutex);
    return m_entries.size();
}

// Forgets the keys that are quiet no longer (their next line is written anyway; only a count held back for one of
// them is lost), or else the one that would be soonest. O(keys), and only when a new key finds the map full.
void LogThrottle::makeRoom(SteadyTime now) {
    std::erase_if(m_entries, [now](const auto& entry) { return entry.second.quietUntil <= now; });
    if (m_entries.size() < m_maxKeys) return;
    const auto soonest = std::min_element(m_entries.begin(), m_entries.end(), [](const auto& a, const auto& b) {
        return a.second.quietUntil < b.second.quietUntil;
    });
    m_entries.erase(soonest);
}

} // namespace fusebox
