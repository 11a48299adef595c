#include "admin/EventStream.h"

#include "admin/AdminJson.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <thread>

namespace fusebox {

namespace net = boost::asio;

class EventStream::Subscriber : public std::enable_shared_from_this<Subscriber> {
  public:
    Subscriber(EventStream& owner, uint64_t id, std::shared_ptr<ClientSession> session)
        : m_owner(owner), m_id(id), m_executor(session->executor()), m_session(std::move(session)),
          m_timer(m_executor) {}

    uint64_t id() const { return m_id; }
    net::any_io_executor executor() const { return m_executor; }

    // Engine thread, maybe under a breaker lock: queue or count, never wait.
    void enqueue(const Event& event) {
        std::lock_guard lock(m_mutex);
        if (m_closed) return;
        if (m_queue.size() < m_owner.m_queueLimit) {
            m_queue.push_back({event, 0});
        } else if (!m_queue.empty() && m_queue.back().dropped > 0) {
            ++m_queue.back().dropped;
        } else {
            m_queue.push_back({Event{}, 1}); // one marker past the limit, then it only counts
        }
        if (m_pumpPosted) return;
        m_pumpPosted = true;
        net::post(m_executor, [self = shared_from_this()] { self->pump(); });
    }

    // ---- the session's I/O thread ----
    void start(http::response<http::empty_body> head, uint64_t busId) {
        m_busId = busId;
        std::weak_ptr<Subscriber> weak = weak_from_this();
        m_session->setGoneHandler([weak] {
            if (auto self = weak.lock()) self->close();
        });
        m_session->setDrainHandler([weak] {
            if (auto self = weak.lock()) self->pump();
        });
        m_session->beginStream(std::move(head));
        m_session->sendChunk(": connected\n\n");
        armHeartbeat();
    }

    void pump() {
        {
            std::lock_guard lock(m_mutex);
            m_pumpPosted = false;
        }
        if (!m_session) return;
        // Hand the session at most a low-water mark's worth; the rest waits here, bounded, for the drain
        // handler.
        while (m_session && m_session->pendingBytes() < ClientSession::kLowWater) {
            std::deque<Entry> batch;
            {
                std::lock_guard lock(m_mutex);
                for (int i = 0; i < 256 && !m_queue.empty(); ++i) {
                    batch.push_back(std::move(m_queue.front()));
                    m_queue.pop_front();
                }
            }
            if (batch.empty()) return;
            std::string text;
            for (const auto& entry : batch) {
                const nlohmann::ordered_json json =
                    entry.dropped > 0 ? nlohmann::ordered_json{{"type", "lagged"}, {"dropped", entry.dropped}}
                                      : eventJson(entry.event);
                text +=
                    "data: " + json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
            }
            m_session->sendChunk(std::move(text));
        }
    }

    void close() {
        {
            std::lock_guard lock(m_mutex);
            if (m_closed) return;
            m_closed = true;
            m_queue.clear();
        }
        m_owner.m_bus.unsubscribe(m_busId);
        m_timer.cancel();
        if (auto session = std::move(m_session)) {
            session->setDrainHandler(nullptr);
            session->endStream();
        }
        m_owner.forget(m_id);
    }

  private:
    struct Entry {
        Event event;
        uint64_t dropped = 0; // > 0: a lagged marker standing for this many dropped events
    };

    void armHeartbeat() {
        m_timer.expires_after(m_owner.m_heartbeat);
        m_timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || !self->m_session) return;
            // A comment line keeps proxies and clients from timing the stream out; skipped when already
            // backed up.
            if (self->m_session->pendingBytes() < ClientSession::kLowWater)
                self->m_session->sendChunk(": heartbeat\n\n");
            self->armHeartbeat();
        });
    }

    EventStream& m_owner;
    const uint64_t m_id;
    net::any_io_executor m_executor;
    std::shared_ptr<ClientSession> m_session; // I/O thread only; reset when the stream ends
    net::steady_timer m_timer;
    uint64_t m_busId = 0;

    std::mutex m_mutex; // guards what the engine threads touch
    std::deque<Entry> m_queue;
    bool m_pumpPosted = false;
    bool m_closed = false;
};

EventStream::EventStream(EventBus& bus, std::size_t queueLimit, std::chrono::milliseconds heartbeat)
    : m_bus(bus), m_queueLimit(queueLimit), m_heartbeat(heartbeat) {}

EventStream::~EventStream() {
    closeAll(std::chrono::milliseconds(0));
}

bool EventStream::open(const std::shared_ptr<ClientSession>& session, http::response<http::empty_body> head) {
    if (m_closing) return false;
    std::shared_ptr<Subscriber> subscriber;
    {
        std::lock_guard lock(m_mutex);
        subscriber = std::make_shared<Subscriber>(*this, m_nextId++, session);
        m_subscribers[subscriber->id()] = subscriber;
    }
    std::weak_ptr<Subscriber> weak = subscriber;
    const uint64_t busId = m_bus.subscribe([weak](const Event& event) {
        if (auto s = weak.lock()) s->enqueue(event);
    });
    subscriber->start(std::move(head), busId);
    return true;
}

void EventStream::forget(uint64_t id) {
    std::lock_guard lock(m_mutex);
    m_subscribers.erase(id);
}

std::size_t EventStream::subscribers() const {
    std::lock_guard lock(m_mutex);
    return m_subscribers.size();
}

void EventStream::closeAll(std::chrono::milliseconds wait) {
    m_closing = true;
    std::vector<std::shared_ptr<Subscriber>> all;
    {
        std::lock_guard lock(m_mutex);
        for (auto& [id, s] : m_subscribers)
            all.push_back(s);
    }
    for (auto& s : all)
        net::post(s->executor(), [s] { s->close(); });
    all.clear();
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (subscribers() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

} // namespace fusebox
