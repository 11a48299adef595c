#include "providers/SseParser.h"

#include <algorithm>
#include <cstring>

namespace fusebox {

namespace {

// The next '\n' or '\r' in `text` at or after `from`, or npos. memchr is many bytes a step, where a loop over the
// bytes costs several instructions each (every relayed event passes here twice).
class LineBreaks {
public:
    LineBreaks(std::string_view text, std::size_t from)
        : m_text(text), m_newline(find('\n', from)), m_return(find('\r', from)) {}
    std::size_t next() const { return std::min(m_newline, m_return); }
    // Moves past the break that next() returned.
    void pass(std::size_t at) {
        if (at == m_newline) m_newline = find('\n', at + 1);
        else m_return = find('\r', at + 1);
    }

private:
    std::size_t find(char c, std::size_t from) const {
        if (from >= m_text.size()) return std::string_view::npos;
        const void* hit = std::memchr(m_text.data() + from, c, m_text.size() - from);
        return hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - m_text.data()) : std::string_view::npos;
    }
    std::string_view m_text;
    std::size_t m_newline;
    std::size_t m_return;
};

// Finds the end of the first event in `text`, looking for its terminator from `from` on: a blank line, with any
// of the three line endings the spec allows. Returns the index just past the terminator, or npos.
std::size_t eventEnd(std::string_view text, std::size_t from) {
    LineBreaks breaks(text, from);
    for (std::size_t i = breaks.next(); i != std::string_view::npos; breaks.pass(i), i = breaks.next()) {
        const char c = text[i];
        std::size_t next = i + 1;
        if (c == '\r' && next < text.size() && text[next] == '\n') ++next;
        if (next >= text.size()) return std::string_view::npos;
        const char d = text[next];
        if (d == '\n') return next + 1;
        if (d == '\r') {
            // "\r\r" or "\r\n\r\n": a lone '\r' at the very end may still grow into "\r\n".
            if (next + 1 < text.size()) return text[next + 1] == '\n' ? next + 2 : next + 1;
            return std::string_view::npos;
        }
    }
    return std::string_view::npos;
}

} // namespace

void SseParser::feed(std::string_view chunk, const Handler& handler) {
    m_buffer.append(chunk);
    std::size_t start = 0;
    for (;;) {
        // NOTE: the event pending from earlier reads was searched already, up to its last few bytes (a
        // terminator is at most 4 bytes, "\r\n\r\n", and may be split across reads). Searching it again on
        // every read made a trickled 8 MB event cost seconds of CPU.
        const std::size_t from = start == 0 ? m_searched : 0;
        const std::size_t end = eventEnd(std::string_view(m_buffer).substr(start), from);
        const std::size_t pending = m_buffer.size() - start;
        m_bytesSearched += (end == std::string_view::npos ? pending : end) - std::min(from, pending);
        if (end == std::string_view::npos) {
            m_searched = pending > kTerminatorLookback ? pending - kTerminatorLookback : 0;
            break;
        }
        SseEvent event;
        event.raw = m_buffer.substr(start, end);
        parseEvent(event.raw, event);
        start += end;
        handler(std::move(event));
    }
    m_buffer.erase(0, start);
    if (m_buffer.size() > kMaxEventBytes) {
        m_overflowed = true;
        m_buffer.clear();
        m_searched = 0;
    }
}

void SseParser::parseEvent(std::string_view block, SseEvent& out) const {
    bool sawField = false;
    bool firstData = true;
    LineBreaks breaks(block, 0);
    std::size_t at = 0; // where the current line starts
    while (at < block.size()) {
        const std::size_t eol = breaks.next();
        std::string_view line = block.substr(at, eol == std::string_view::npos ? std::string_view::npos : eol - at);
        if (eol == std::string_view::npos) {
            at = block.size();
        } else {
            at = eol + 1;
            breaks.pass(eol);
            if (block[eol] == '\r' && at < block.size() && block[at] == '\n') {
                breaks.pass(at);
                ++at;
            }
        }
        if (line.empty() || line.front() == ':') continue;
        sawField = true;
        std::string_view field = line, value;
        if (auto colon = line.find(':'); colon != std::string_view::npos) {
            field = line.substr(0, colon);
            value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        }
        if (field == "event") out.event = value;
        else if (field == "data") {
            if (!firstData) out.data += '\n';
            out.data += value;
            firstData = false;
        }
    }
    out.commentOnly = !sawField;
}

} // namespace fusebox
