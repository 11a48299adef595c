#include "core/EventBus.h"

#include <algorithm>

namespace fusebox {

const char* eventTypeName(EventType type) {
    switch (type) {
    case EventType::Breaker: return "breaker";
    case EventType::Operator: return "operator";
    case EventType::Route: return "route";
    }
    return "unknown";
}

EventBus::EventBus(std::size_t historySize)
    : m_subscribers(std::make_shared<const std::vector<Subscriber>>()), m_historySize(historySize) {}

uint64_t EventBus::subscribe(Sink sink) {
    std::lock_guard lock(m_mutex);
    auto next = std::make_shared<std::vector<Subscriber>>(*m_subscribers);
    const uint64_t id = m_nextId++;
    next->push_back({id, std::make_shared<Sink>(std::move(sink))});
    m_subscribers = std::move(next);
    return id;
}

void EventBus::unsubscribe(uint64_t id) {
    std::lock_guard lock(m_mutex);
    auto next = std::make_shared<std::vector<Subscriber>>(*m_subscribers);
    std::erase_if(*next, [id](const Subscriber& s) { return s.id == id; });
    m_subscribers = std::move(next);
}

void EventBus::publish(Event event) {
    std::shared_ptr<const std::vector<Subscriber>> subscribers;
    {
        std::lock_guard lock(m_mutex);
        event.seq = m_nextSeq++;
        if (event.at == WallTime{}) event.at = std::chrono::system_clock::now();
        if (event.replica.empty()) event.replica = m_replica;
        m_history.push_back(event);
        while (m_history.size() > m_historySize) m_history.pop_front();
        subscribers = m_subscribers;
    }
    for (const auto& subscriber : *subscribers) (*subscriber.sink)(event);
}

void EventBus::setReplica(std::string replica) {
    std::lock_guard lock(m_mutex);
    m_replica = std::move(replica);
}

std::vector<Event> EventBus::history() const {
    std::lock_guard lock(m_mutex);
    return {m_history.begin(), m_history.end()};
}

} // namespace fusebox
