#pragma once
// GET /admin/v1/events: every engine event as SSE (`data: {json}\n\n`) to any number of subscribers.
//
// NOTE: EventBus sinks run on engine threads, possibly under a breaker lock, so a subscriber's sink only
// copies the event into that subscriber's bounded queue and posts a pump to the session's I/O thread. A
// subscriber that does not read fills its queue; further events are dropped and counted, and it gets
// {"type":"lagged", "dropped":N} in their place once it reads again. The engine never waits for a subscriber.
#include "core/EventBus.h"
#include "proxy/ClientSession.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

namespace fusebox {

class EventStream {
  public:
    explicit EventStream(EventBus& bus, std::size_t queueLimit = 1024,
                         std::chrono::milliseconds heartbeat = std::chrono::seconds(15));
    ~EventStream();
    EventStream(const EventStream&) = delete;
    EventStream& operator=(const EventStream&) = delete;

    // On the session's I/O thread: starts the stream with `head` and subscribes. Returns false when closing.
    bool open(const std::shared_ptr<ClientSession>& session, http::response<http::empty_body> head);
    // From any thread: ends every stream (engine shutdown) and waits up to `wait` for them to let go.
    void closeAll(std::chrono::milliseconds wait = std::chrono::seconds(1));
    std::size_t subscribers() const;

  private:
    class Subscriber;
    void forget(uint64_t id);

    EventBus& m_bus;
    const std::size_t m_queueLimit;
    const std::chrono::milliseconds m_heartbeat;
    std::atomic<bool> m_closing{false};
    mutable std::mutex m_mutex;
    std::map<uint64_t, std::shared_ptr<Subscriber>> m_subscribers;
    uint64_t m_nextId = 1;
};

} // namespace fusebox
