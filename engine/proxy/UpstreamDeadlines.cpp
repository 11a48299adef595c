#include "proxy/UpstreamDeadlines.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace fusebox {

namespace {

SteadyTime now() {
    return std::chrono::steady_clock::now();
}

std::string expiredMessage(std::string_view what, Millis limit) {
    return std::string(what) + " " + std::to_string(limit.count()) + " ms";
}

} // namespace

UpstreamDeadlines::UpstreamDeadlines(boost::asio::io_context& io, const ProviderTimeouts& timeouts, bool stream)
    : m_io(io), m_timeouts(timeouts), m_stream(stream) {}

Millis UpstreamDeadlines::timeToFirstByte() const {
    return m_gotFirstByte ? std::chrono::duration_cast<Millis>(m_firstByteAt - m_startedAt) : Millis::zero();
}

Millis UpstreamDeadlines::elapsed() const {
    return std::chrono::duration_cast<Millis>(now() - m_startedAt);
}

void UpstreamDeadlines::start(std::weak_ptr<void> owner, OnExpired onExpired) {
    m_owner = std::move(owner);
    m_onExpired = std::move(onExpired);
    m_startedAt = now();
    m_stopped = false;
    m_timer.emplace(m_io);
    schedule();
}

void UpstreamDeadlines::watchConnect(std::string target) {
    m_watchingConnect = true;
    m_connectTarget = std::move(target);
    schedule();
}

void UpstreamDeadlines::connected() {
    m_watchingConnect = false; // a wait pending for it lapses and re-arms for the next deadline
}

void UpstreamDeadlines::firstByte() {
    if (m_gotFirstByte) return;
    m_gotFirstByte = true;
    m_firstByteAt = m_lastDataAt = now();
    schedule(); // first_byte is over; idle starts (usually later than the wait pending: no re-arm)
}

void UpstreamDeadlines::setPaused(bool paused) {
    if (m_paused == paused) return;
    m_paused = paused; // pausing: the idle deadline stops, and a wait pending for it lapses
    if (!paused && m_gotFirstByte) {
        m_lastDataAt = now(); // the pause was the caller's doing, not the provider's silence
        schedule();
    }
}

void UpstreamDeadlines::stop() {
    m_stopped = true;
    ++m_generation;
    m_timerAt = SteadyTime::max();
    if (m_timer) m_timer->cancel();
    m_onExpired = nullptr; // it may hold the call's caller
}

SteadyTime UpstreamDeadlines::nearest() const {
    SteadyTime at = SteadyTime::max();
    if (m_timeouts.total > Millis::zero()) at = std::min(at, m_startedAt + m_timeouts.total);
    if (m_watchingConnect && m_timeouts.connect > Millis::zero())
        at = std::min(at, m_startedAt + m_timeouts.connect);
    if (!m_gotFirstByte && m_stream && m_timeouts.firstByte > Millis::zero())
        at = std::min(at, m_startedAt + m_timeouts.firstByte);
    if (m_gotFirstByte && !m_paused && m_timeouts.idle > Millis::zero())
        at = std::min(at, m_lastDataAt + m_timeouts.idle);
    return at;
}

void UpstreamDeadlines::schedule() {
    if (!m_timer || m_stopped) return;
    SteadyTime due = nearest();
    // Before the first byte, the wait is armed no later than the soonest an idle deadline could fall (were the
    // first byte to come at once): when it comes, the idle deadline is then never earlier than the wait pending,
    // and the timer is not re-armed. Most calls thus cost one wait, armed at the start and cancelled at the end;
    // a wait that fires early only re-checks (and once that time has passed, it no longer counts).
    if (!m_gotFirstByte && m_timeouts.idle > Millis::zero()) {
        const SteadyTime idleAtSoonest = m_startedAt + m_timeouts.idle;
        if (idleAtSoonest < due && idleAtSoonest > now()) due = idleAtSoonest;
    }
    if (due == SteadyTime::max() || m_timerAt <= due) return; // none, or a wait fires first and re-checks
    m_timerAt = due;
    const unsigned generation = ++m_generation;
    m_timer->expires_at(due);
    m_timer->async_wait([this, owner = m_owner, generation](const boost::system::error_code& ec) {
        const auto alive = owner.lock();
        if (!alive || generation != m_generation) return; // owner gone, or re-armed or stopped meanwhile
        m_timerAt = SteadyTime::max();
        if (!ec) onTimer();
    });
}

void UpstreamDeadlines::onTimer() {
    if (m_stopped) return;
    const SteadyTime at = now();
    // The deadlines that have passed, earliest first (as separate timers would have fired).
    struct Due {
        SteadyTime when;
        std::string message;
    };
    std::optional<Due> first;
    auto consider = [&](bool active, Millis limit, SteadyTime when, auto&& message) {
        if (!active || limit <= Millis::zero() || at < when) return;
        if (!first || when < first->when) first = Due{when, message()};
    };
    consider(m_watchingConnect, m_timeouts.connect, m_startedAt + m_timeouts.connect, [&] {
        return expiredMessage("connect timeout: not connected within", m_timeouts.connect) + " (" +
               m_connectTarget + " did not accept the connection)";
    });
    consider(!m_gotFirstByte && m_stream, m_timeouts.firstByte, m_startedAt + m_timeouts.firstByte, [&] {
        return expiredMessage("first_byte timeout: first byte not received within", m_timeouts.firstByte);
    });
    consider(m_gotFirstByte && !m_paused, m_timeouts.idle, m_lastDataAt + m_timeouts.idle,
             [&] { return expiredMessage("idle timeout: no data received for", m_timeouts.idle); });
    consider(true, m_timeouts.total, m_startedAt + m_timeouts.total,
             [&] { return expiredMessage("total timeout: response not complete within", m_timeouts.total); });
    if (!first) {
        schedule();
        return;
    }
    auto onExpired = std::move(m_onExpired);
    stop();
    if (onExpired) onExpired(std::move(first->message));
}

} // namespace fusebox
