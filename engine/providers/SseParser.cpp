#include "providers/SseParser.h"

namespace fusebox {

namespace {

// Finds the end of the first event in `text`, looking for its terminator from `from` on: a blank line, with any
// of the three line endings the spec allows. Returns the index just past the terminator, or npos.
std::size_t eventEnd(std::string_view text, std::size_t from) {
    for (std::size_t i = from; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '\n' && c != '\r') continue;
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
    while (!block.empty()) {
        std::size_t eol = block.find_first_of("\r\n");
        std::string_view line = block.substr(0, eol);
        if (eol == std::string_view::npos) block = {};
        else {
            std::size_t skip = eol + 1;
            if (block[eol] == '\r' && skip < block.size() && block[skip] == '\n') ++skip;
            block.remove_prefix(skip);
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
