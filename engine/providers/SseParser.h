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

private:
    void parseEvent(std::string_view block, SseEvent& out) const;
    std::string m_buffer;
    bool m_overflowed = false;
};

} // namespace fusebox
