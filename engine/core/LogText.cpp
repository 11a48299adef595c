#include "core/LogText.h"

#include "core/UntrustedJson.h"

#include <cstdint>

namespace fusebox {

namespace {

// The length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), or 0 when there is none.
std::size_t sequenceLength(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<uint8_t>(text[k]); };
    const uint8_t lead = byte(i);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    uint8_t low = 0x80, high = 0xBF; // the allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
    } else {
        return 0;
    }
    if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
    for (std::size_t k = 2; k < length; ++k)
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
    return length;
}

bool isControl(std::string_view text, std::size_t i, std::size_t length) {
    const auto lead = static_cast<uint8_t>(text[i]);
    if (length == 1) return lead < 0x20 || lead == 0x7F;
    return length == 2 && lead == 0xC2 && static_cast<uint8_t>(text[i + 1]) <= 0x9F; // C1: U+0080..U+009F
}

void appendUnicodeEscape(std::string& out, unsigned code) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code >> shift) & 0xF];
}

} // namespace

std::string_view clipForLog(std::string_view text, std::size_t limit, std::string& storage) {
    if (text.size() <= limit) return text;
    storage = clipUtf8(text, limit, "\u2026(" + std::to_string(text.size()) + " bytes)");
    return storage;
}

bool isPrintableText(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = sequenceLength(text, i);
        if (length == 0 || isControl(text, i, length)) return false;
        i += length;
    }
    return true;
}

void appendJsonString(std::string& out, std::string_view text) {
    out += '"';
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = sequenceLength(text, i);
        const char c = text[i];
        if (length == 0) {
            appendUnicodeEscape(out, 0xFFFD);
            i += 1;
            continue;
        }
        if (isControl(text, i, length)) {
            switch (c) {
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                // A C1 character's second byte is its code point (C2 9B is U+009B).
                appendUnicodeEscape(out, static_cast<uint8_t>(length == 1 ? c : text[i + 1]));
            }
        } else if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else {
            out.append(text.substr(i, length));
        }
        i += length;
    }
    out += '"';
}

} // namespace fusebox
