#pragma once
// Publishes events to any number of subscribers and keeps the most recent ones for late subscribers.
//
// NOTE: publish() runs the subscribers' sinks on the publishing thread, which may hold a breaker's lock, so a
// sink must only queue the event (never block, never call back into the engine). The admin event stream and
// the console bridge both queue and drain on their own threads.
#include "core/Event.h"

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace fusebox {

class EventBus {
public:
    using Sink = std::function<void(const Event&)>;

    explicit EventBus(std::size_t historySize = 1000);

    // Returns an id for unsubscribe(). A sink may unsubscribe itself from inside its own call.
    uint64_t subscribe(Sink sink);
    void unsubscribe(uint64_t id);

    // Stamps seq and, when unset, `at` and `replica`, then hands the event to every sink.
    void publish(Event event);
    // The replica id events are stamped with (the fleet's; HOSTNAME:PORT without one). Set before serving.
    void setReplica(std::string replica);

    // The most recent events, oldest first.
    std::vector<Event> history() const;

private:
    struct Subscriber {
        uint64_t id;
        std::shared_ptr<Sink> sink;
    };
    mutable std::mutex m_mutex;
    // Copy-on-write, so publish() calls sinks without holding m_mutex.
    std::shared_ptr<const std::vector<Subscriber>> m_subscribers;
    std::deque<Event> m_history;
    std::size_t m_historySize;
    uint64_t m_nextId = 1;
    uint64_t m_nextSeq = 1;
    std::string m_replica;
};

} // namespace fusebox
