#pragma once
// A quick, strict pass over a small JSON text (a stream event) that calls a SAX-style handler, for the hot
// path of reading every relayed event. nlohmann's SAX parser costs about 25 ns a byte (its lexer reads
// through an input adapter one character at a time and copies every key and string); this reads the bytes in
// place.
//
// It accepts only what nlohmann's parser accepts, and calls the handler in the same order with the same
// values for it; what it is not sure of it leaves to nlohmann: the answer is then Unsure and the caller runs
// nlohmann's parser instead (its verdict and its error message are the ones that count). Unsure, among
// others: any invalid JSON, a key with an escape, a number with an exponent or of more than 300 digits
// (nlohmann refuses a number that overflows a double), nesting deeper than kMaxJsonDepth.
//
// Handler: bool null(); bool boolean(bool); bool number(); bool text(bool nonEmpty); bool
// name(std::string_view); bool start_object(std::size_t); bool start_array(std::size_t); bool end_object();
// bool end_array(). A handler that returns false stops the pass (Stopped), as nlohmann's sax_parse stops and
// returns false.
#include "core/UntrustedJson.h"

#include <array>
#include <cstddef>
#include <string_view>

namespace fusebox {

enum class StrictScan { Valid, Stopped, Unsure };

namespace strict_json {

inline bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

inline int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The code unit of the \uXXXX escape at text[at] ('\\'), or -1.
inline long unicodeEscape(std::string_view text, std::size_t at) {
    if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return -1;
    long value = 0;
    for (std::size_t k = at + 2; k < at + 6; ++k) {
        const int digit = hexValue(text[k]);
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

// The length of the well-formed UTF-8 sequence (RFC 3629 §4, as nlohmann checks it) that starts with a byte
// of 0x80 or more at text[at], or 0.
inline std::size_t utf8Sequence(std::string_view text, std::size_t at) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(at);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF; // the range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF)
        length = 2;
    else if (lead == 0xE0)
        length = 3, low = 0xA0;
    else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF)
        length = 3;
    else if (lead == 0xED)
        length = 3, high = 0x9F;
    else if (lead == 0xF0)
        length = 4, low = 0x90;
    else if (lead >= 0xF1 && lead <= 0xF3)
        length = 4;
    else if (lead == 0xF4)
        length = 4, high = 0x8F;
    else
        return 0;
    if (at + length > text.size()) return 0;
    if (byte(at + 1) < low || byte(at + 1) > high) return 0;
    for (std::size_t k = at + 2; k < at + length; ++k)
        if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
    return length;
}

// Just past the closing quote of the string whose opening quote is text[at], or npos when it is not a valid
// JSON string. `escaped`: it holds an escape.
inline std::size_t stringEnd(std::string_view text, std::size_t at, bool& escaped) {
    constexpr auto npos = std::string_view::npos;
    // The bytes that stand for themselves in a string: most of any text, passed over one table look-up each.
    static constexpr auto kPlain = [] {
        std::array<bool, 256> plain{};
        for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
        return plain;
    }();
    std::size_t i = at + 1;
    while (i < text.size()) {
        while (i < text.size() && kPlain[static_cast<unsigned char>(text[i])]) ++i;
        if (i >= text.size()) break;
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"') return i + 1;
        if (c < 0x20) return npos;
        if (c >= 0x80) {
            const std::size_t length = utf8Sequence(text, i);
            if (length == 0) return npos;
            i += length;
            continue;
        }
        escaped = true;
        if (i + 1 >= text.size()) return npos;
        switch (text[i + 1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            i += 2;
            continue;
        case 'u':
            break;
        default:
            return npos;
        }
        const long unit = unicodeEscape(text, i);
        if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return npos; // a low surrogate alone
        if (unit >= 0xD800 && unit <= 0xDBFF) { // a high surrogate: its low one must follow
            const long second = unicodeEscape(text, i + 6);
            if (second < 0xDC00 || second > 0xDFFF) return npos;
            i += 12;
        } else {
            i += 6;
        }
    }
    return npos;
}

// Just past the number that starts at text[at], or npos when it is not one this pass takes (see above).
inline std::size_t numberEnd(std::string_view text, std::size_t at) {
    constexpr auto npos = std::string_view::npos;
    const auto digit = [&](std::size_t k) { return k < text.size() && text[k] >= '0' && text[k] <= '9'; };
    std::size_t i = at;
    if (i < text.size() && text[i] == '-') ++i;
    if (!digit(i)) return npos;
    const std::size_t integerStart = i;
    if (text[i] == '0')
        ++i;
    else
        while (digit(i))
            ++i;
    if (i - integerStart > 300) return npos;
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!digit(i)) return npos;
        while (digit(i))
            ++i;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) return npos;
    return i;
}

} // namespace strict_json

template <class Handler> StrictScan scanStrictJson(std::string_view text, Handler& handler) {
    using namespace strict_json;
    constexpr auto npos = std::string_view::npos;
    constexpr std::size_t kUnknownSize = static_cast<std::size_t>(-1); // what nlohmann passes to start_*
    enum class Want { Value, ValueOrClose, Key, KeyOrClose, Colon, CommaOrClose };
    std::array<bool, kMaxJsonDepth> inObject{}; // per open container: an object (else an array)
    std::size_t depth = 0;
    Want want = Want::Value;
    bool done = false; // the top-level value is complete
    std::size_t i = 0;
    for (;;) {
        while (i < text.size() && isSpace(text[i]))
            ++i;
        if (done) return i == text.size() ? StrictScan::Valid : StrictScan::Unsure;
        if (i >= text.size()) return StrictScan::Unsure;
        const char c = text[i];
        switch (want) {
        case Want::Colon:
            if (c != ':') return StrictScan::Unsure;
            ++i;
            want = Want::Value;
            continue;
        case Want::CommaOrClose:
            if (c == ',') {
                ++i;
                want = inObject[depth - 1] ? Want::Key : Want::Value;
                continue;
            }
            if (c != (inObject[depth - 1] ? '}' : ']')) return StrictScan::Unsure;
            ++i;
            if (!(inObject[--depth] ? handler.end_object() : handler.end_array())) return StrictScan::Stopped;
            break; // a value ended
        case Want::Key:
        case Want::KeyOrClose: {
            if (c == '}' && want == Want::KeyOrClose) {
                ++i;
                --depth;
                if (!handler.end_object()) return StrictScan::Stopped;
                break; // a value ended
            }
            if (c != '"') return StrictScan::Unsure;
            bool escaped = false;
            const std::size_t end = stringEnd(text, i, escaped);
            if (end == npos || escaped) return StrictScan::Unsure;
            if (!handler.name(text.substr(i + 1, end - i - 2))) return StrictScan::Stopped;
            i = end;
            want = Want::Colon;
            continue;
        }
        case Want::Value:
        case Want::ValueOrClose:
            if (c == ']' && want == Want::ValueOrClose) {
                ++i;
                --depth;
                if (!handler.end_array()) return StrictScan::Stopped;
                break; // a value ended
            }
            if (c == '{' || c == '[') {
                if (depth == inObject.size()) return StrictScan::Unsure;
                const bool object = c == '{';
                if (!(object ? handler.start_object(kUnknownSize) : handler.start_array(kUnknownSize)))
                    return StrictScan::Stopped;
                inObject[depth++] = object;
                ++i;
                want = object ? Want::KeyOrClose : Want::ValueOrClose;
                continue;
            }
            if (c == '"') {
                bool escaped = false;
                const std::size_t end = stringEnd(text, i, escaped);
                if (end == npos) return StrictScan::Unsure;
                if (!handler.text(end - i > 2)) return StrictScan::Stopped;
                i = end;
            } else if (c == 't' || c == 'f' || c == 'n') {
                const std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
                if (text.substr(i, word.size()) != word) return StrictScan::Unsure;
                if (!(c == 'n' ? handler.null() : handler.boolean(c == 't'))) return StrictScan::Stopped;
                i += word.size();
            } else {
                const std::size_t end = numberEnd(text, i);
                if (end == npos) return StrictScan::Unsure;
                if (!handler.number()) return StrictScan::Stopped;
                i = end;
            }
            break; // a value ended
        }
        // A value ended: the next is what follows it in its container, or the end of the text.
        if (depth == 0)
            done = true;
        else
            want = Want::CommaOrClose;
    }
}

} // namespace fusebox
