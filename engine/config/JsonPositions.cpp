#include "config/JsonPositions.h"

#include <nlohmann/json.hpp>

#include <iterator>
#include <set>

namespace fusebox {

TextPosition positionAt(std::string_view text, std::size_t offset) {
    TextPosition pos{1, 1};
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++pos.line;
            pos.column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++pos.column; // count characters, not UTF-8 continuation bytes
        }
    }
    return pos;
}

TextPosition JsonPositions::find(const std::string& path) const {
    std::string p = path;
    for (;;) {
        if (auto it = byPath.find(p); it != byPath.end()) return it->second;
        const auto cut = p.find_last_of(".[");
        if (cut == std::string::npos) break;
        p.resize(cut);
    }
    if (auto it = byPath.find(""); it != byPath.end()) return it->second;
    return {};
}

namespace {

// An input iterator that publishes how far the parser has read, so SAX callbacks know where they are.
class CountingIterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    CountingIterator(const char* p, const char** cursor) : m_p(p), m_cursor(cursor) {}
    reference operator*() const { return *m_p; }
    CountingIterator& operator++() {
        *m_cursor = ++m_p;
        return *this;
    }
    CountingIterator operator++(int) {
        auto copy = *this;
        ++*this;
        return copy;
    }
    bool operator==(const CountingIterator& other) const { return m_p == other.m_p; }
    bool operator!=(const CountingIterator& other) const { return m_p != other.m_p; }

private:
    const char* m_p;
    const char** m_cursor;
};

class PositionHandler final : public nlohmann::json_sax<nlohmann::json> {
    // nlohmann's out_of_range.406: "number overflow parsing '1e999'".
    static constexpr int kNumberOverflow = 406;
    static constexpr std::size_t kMaxJsonDepth = 64;

public:
    PositionHandler(std::string_view text, const char** cursor, JsonPositions& out)
        : m_text(text), m_cursor(cursor), m_out(out) {}

    bool null() override { return scalar(); }
    bool boolean(bool) override { return scalar(); }
    bool number_integer(number_integer_t) override { return scalar(); }
    bool number_unsigned(number_unsigned_t) override { return scalar(); }
    bool number_float(number_float_t, const string_t&) override { return scalar(); }
    bool string(string_t&) override { return scalar(); }
    bool binary(binary_t&) override { return scalar(); }
    bool start_object(std::size_t) override { return open(false); }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(true); }
    bool end_array() override { return close(); }
    bool key(string_t& k) override {
        auto& frame = m_stack.back();
        frame.key = k;
        // The parser has just read the key's closing quote; its opening quote is one key-length back
        // (exact for keys without escapes, which config keys never have).
        const std::size_t end = offset();
        const std::size_t start = end >= k.size() + 2 ? end - k.size() - 2 : 0;
        const TextPosition pos = positionAt(m_text, start);
        if (!frame.seen.insert(k).second) m_out.duplicateKeys.emplace_back(childPath(), pos);
        m_out.byPath.emplace(childPath(), pos);
        return true;
    }
    bool parse_error(std::size_t position, const std::string& lastToken,
                     const nlohmann::detail::exception& error) override {
        m_out.syntaxError = describeError(position, lastToken, error);
        return false;
    }

private:
    struct Frame {
        bool array = false;
        std::size_t index = 0;
        std::string key;
        std::string path;
        std::set<std::string> seen;
    };

    JsonSyntaxError describeError(std::size_t position, const std::string& lastToken,
                                  const nlohmann::detail::exception& error) const {
        if (error.id == kNumberOverflow) {
            // Reported after the whole number was read: point at its first character.
            const std::size_t start = position >= lastToken.size() ? position - lastToken.size() : 0;
            return {positionAt(m_text, start),
                    "the number " + lastToken + " is out of range (no double holds it; the largest is about 1.8e308)"};
        }
        // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..." -> the part people
        // need; the position is that of the byte after the offending one.
        const std::string what = error.what();
        const auto cut = what.find(": ");
        return {positionAt(m_text, position > 0 ? position - 1 : 0),
                cut == std::string::npos ? what : what.substr(cut + 2)};
    }

    std::size_t offset() const { return static_cast<std::size_t>(*m_cursor - m_text.data()); }

    std::string childPath() const {
        if (m_stack.empty()) return "";
        const auto& top = m_stack.back();
        if (top.array) return top.path + "[" + std::to_string(top.index) + "]";
        return top.path.empty() ? top.key : top.path + "." + top.key;
    }

    // Array elements have no key, so they are placed where the value starts.
    std::string enterValue(std::size_t valueStart) {
        std::string path = childPath();
        if (m_stack.empty() || m_stack.back().array) m_out.byPath.emplace(path, positionAt(m_text, valueStart));
        if (!m_stack.empty() && m_stack.back().array) ++m_stack.back().index;
        return path;
    }

    bool scalar() {
        enterValue(offset() > 0 ? offset() - 1 : 0);
        return true;
    }
    bool open(bool array) {
        if (m_stack.size() >= kMaxJsonDepth) {
            // Each level's path repeats its parent's, so memory grows with the square of the depth: 100,000
            // nested arrays would take gigabytes. A config is a few levels deep; stop here instead.
            m_out.syntaxError = JsonSyntaxError{positionAt(m_text, offset() > 0 ? offset() - 1 : 0),
                                                "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
            return false;
        }
        std::string path = enterValue(offset() > 0 ? offset() - 1 : 0);
        m_stack.push_back(Frame{array, 0, {}, std::move(path), {}});
        return true;
    }
    bool close() {
        m_stack.pop_back();
        return true;
    }

    std::string_view m_text;
    const char** m_cursor;
    JsonPositions& m_out;
    std::vector<Frame> m_stack;
};

} // namespace

JsonPositions scanJsonPositions(std::string_view text) {
    JsonPositions out;
    const char* cursor = text.data();
    PositionHandler handler(text, &cursor, out);
    CountingIterator first(text.data(), &cursor);
    CountingIterator last(text.data() + text.size(), &cursor);
    try {
        nlohmann::json::sax_parse(first, last, &handler);
    } catch (const std::exception& e) {
        // The handler turns every parser error into a value; this is for what is left (bad_alloc on a huge text).
        out.syntaxError = JsonSyntaxError{{}, e.what()};
    }
    return out;
}

} // namespace fusebox
