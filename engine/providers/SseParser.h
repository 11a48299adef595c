#pragma once
// Splits a byte stream into Server-Sent Events as they complete (WHATWG HTML §9.2 "event stream" framing).
// Each event keeps its raw bytes too, so the proxy can relay it exactly as the provider sent it.
#include <functional>
#include <string>
#include <string_view>

namespace fusebox {

struct SseEvent {
    std::string event; // the "event:" field; empty means "message"
    std::string data;  // "data:" lines joined with '\n'
    std::string raw;   // the event's bytes as received, blank-line terminator included
    bool commentOnly = false; // only ":" lines (a keep-alive)
};

class SseParser {
public:
    using Handler = std::function<void(SseEvent&&)>;
    // Calls `handler` for each complete event in `chunk` (plus what earlier chunks left over).
    void feed(std::string_view chunk, const Handler& handler);
    // Bytes of an event that has started but not ended.
    std::size_t pending() const { return m_buffer.size(); }
    // Guards against a provider that never sends a blank line.
    static constexpr std::size_t kMaxEventBytes = 8 * 1024 * 1024;
    bool overflowed() const { return m_overflowed; }
    // Bytes examined while looking for event ends, over the parser's life: linear in what was fed (a test
    // checks it, since a rescan of the pending event on every read once cost seconds of CPU).
    std::size_t bytesSearched() const { return m_bytesSearched; }

private:
    void parseEvent(std::string_view block, SseEvent& out) const;
    static constexpr std::size_t kTerminatorLookback = 3;
    std::string m_buffer;
    std::size_t m_searched = 0; // how far into m_buffer no terminator can start (feed resumes there)
    std::size_t m_bytesSearched = 0;
    bool m_overflowed = false;
};

} // namespace fusebox
