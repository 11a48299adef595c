// SseParser: the same bytes must give the same events however the network splits them. The input is the stream
// itself; it is fed whole, then in chunks whose sizes (1..16 bytes) cycle through its first eight bytes, then in
// chunks of 1..257 bytes from the same bytes. Any disagreement traps. Also checked on every feeding: the events'
// raw bytes plus what is pending account for every input byte, each raw event ends with a line ending, and a
// comment-only event carries no field. And the parser's search stays linear: bytesSearched() may exceed what was
// fed only by the few bytes of a terminator split across reads (a rescan of the pending event on every read once
// cost seconds of CPU for a trickled 8 MB event).
#include "providers/SseParser.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using fusebox::SseEvent;
using fusebox::SseParser;

struct Fed {
    std::vector<SseEvent> events;
    std::size_t pending = 0;
};

void check(bool condition) {
    if (!condition) __builtin_trap();
}

template <typename NextSize>
Fed feed(std::string_view input, NextSize nextSize) {
    Fed fed;
    SseParser parser;
    std::size_t rawBytes = 0;
    auto handler = [&](SseEvent&& event) {
        check(!event.raw.empty());
        check(event.raw.back() == '\n' || event.raw.back() == '\r');
        if (event.commentOnly) check(event.event.empty() && event.data.empty());
        rawBytes += event.raw.size();
        fed.events.push_back(std::move(event));
    };
    std::size_t offset = 0;
    std::size_t chunk = 0;
    while (offset < input.size()) {
        const std::size_t size = std::min(nextSize(chunk++), input.size() - offset);
        parser.feed(input.substr(offset, size), handler);
        offset += size;
    }
    check(!parser.overflowed()); // inputs are far below kMaxEventBytes
    check(parser.bytesSearched() <= input.size() + 4 * chunk);
    fed.pending = parser.pending();
    check(rawBytes + fed.pending == input.size());
    return fed;
}

void same(const Fed& a, const Fed& b) {
    check(a.events.size() == b.events.size());
    check(a.pending == b.pending);
    for (std::size_t i = 0; i < a.events.size(); ++i) {
        const SseEvent& x = a.events[i];
        const SseEvent& y = b.events[i];
        check(x.event == y.event);
        check(x.data == y.data);
        check(x.raw == y.raw);
        check(x.commentOnly == y.commentOnly);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const Fed whole = feed(input, [&](std::size_t) { return input.size(); });
    if (input.empty()) return 0;
    const std::size_t keys = std::min<std::size_t>(8, input.size());
    const Fed small = feed(input, [&](std::size_t i) {
        return std::size_t(1) + (static_cast<unsigned char>(input[i % keys]) & 0x0f);
    });
    same(whole, small);
    const Fed large = feed(input, [&](std::size_t i) {
        return std::size_t(1) + static_cast<unsigned char>(input[(i * 7 + 3) % keys]);
    });
    same(whole, large);
    return 0;
}
