// SseParser frames events as WHATWG HTML §9.2 has them, with any of the three line endings, however the
// network splits the bytes. Its search for line ends (memchr) is checked against a plain byte-by-byte reading
// of the spec.
#include "providers/SseParser.h"

#include <QtTest>

#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace fusebox;

namespace {

struct Framed {
    std::string event, data, raw;
    bool commentOnly = false;
    bool operator==(const Framed&) const = default;
};

std::vector<Framed> parse(const std::vector<std::string_view>& chunks) {
    std::vector<Framed> out;
    SseParser parser;
    for (auto chunk : chunks)
        parser.feed(chunk, [&](SseEvent&& e) { out.push_back({e.event, e.data, e.raw, e.commentOnly}); });
    return out;
}

// The reference: the stream read one byte at a time. A line ends at "\r\n", "\n" or "\r"; a lone "\r" as the
// last byte received may still be the start of "\r\n", so nothing is decided on it. An empty line ends the
// event unless it is the event's first line (SseParser looks for a line end followed by another).
std::vector<Framed> reference(std::string_view text) {
    std::vector<Framed> out;
    std::size_t eventStart = 0, lineStart = 0;
    Framed current;
    bool sawField = false, firstData = true, lineInEvent = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\r' && text[i] != '\n') continue;
        std::size_t next = i + 1;
        if (text[i] == '\r') {
            if (next == text.size()) break; // undecided
            if (text[next] == '\n') ++next;
        }
        const std::string_view line = text.substr(lineStart, i - lineStart);
        if (line.empty() && lineInEvent) {
            current.raw = std::string(text.substr(eventStart, next - eventStart));
            current.commentOnly = !sawField;
            out.push_back(current);
            current = {};
            sawField = false;
            firstData = true;
            lineInEvent = false;
            eventStart = next;
            lineStart = next;
            i = next - 1;
            continue;
        }
        lineInEvent = true;
        if (!line.empty() && line.front() != ':') {
            sawField = true;
            const auto colon = line.find(':');
            const std::string_view field = line.substr(0, colon);
            std::string_view value =
                colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            if (field == "event") current.event = std::string(value);
            if (field == "data") {
                if (!firstData) current.data += '\n';
                current.data += value;
                firstData = false;
            }
        }
        lineStart = next;
        i = next - 1;
    }
    return out;
}

} // namespace

class SseParserTest : public QObject {
    Q_OBJECT

  private slots:
    void readsEveryLineEnding() {
        const auto one = [](std::string_view text) { return parse({text}); };
        QCOMPARE(one("data: a\n\n").at(0).data, std::string("a"));
        QCOMPARE(one("data: a\r\n\r\n").at(0).data, std::string("a"));
        QCOMPARE(one("data: a\r\r").size(), std::size_t(0)); // the last '\r' may be the start of "\r\n"
        QCOMPARE(one("data: a\r\rx").at(0).raw, std::string("data: a\r\r"));
        const auto mixed = one("event: e\rdata: b\r\ndata: c\n\r\n: note\n\n");
        QCOMPARE(mixed.size(), std::size_t(2));
        QCOMPARE(mixed[0].event, std::string("e"));
        QCOMPARE(mixed[0].data, std::string("b\nc"));
        QCOMPARE(mixed[0].raw, std::string("event: e\rdata: b\r\ndata: c\n\r\n"));
        QVERIFY(mixed[1].commentOnly);
    }

    void agreesWithAByteByByteReadingHoweverSplit() {
        const std::vector<std::string> pieces = {"data: x", "data:{\"a\":1}", "event: e", ": c",
                                                 "id: 1",   "data",           "\n",       "\n",
                                                 "\r",      "\r\n",           "\r\n",     "\n\n"};
        std::mt19937 random(1130);
        for (int round = 0; round < 3000; ++round) {
            std::string text;
            for (int n = static_cast<int>(random() % 16); n > 0; --n)
                text += pieces[random() % pieces.size()];
            std::vector<std::string_view> chunks;
            for (std::size_t at = 0; at < text.size();) {
                const std::size_t size = std::min<std::size_t>(1 + random() % 9, text.size() - at);
                chunks.push_back(std::string_view(text).substr(at, size));
                at += size;
            }
            const auto expected = reference(text);
            QVERIFY2(parse({text}) == expected, text.c_str());
            QVERIFY2(parse(chunks) == expected, text.c_str());
        }
    }
};

QTEST_APPLESS_MAIN(SseParserTest)
#include "test_sse_parser.moc"
