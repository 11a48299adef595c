#include "core/Redaction.h"

#include <algorithm>
#include <cstring>

namespace fusebox {

SecretRedactor::SecretRedactor(std::string_view secret) {
    if (secret.size() < kMinRedactedSecret) return;
    m_secret = secret;
    // Horspool's table: a window whose last byte is c can move on to align c with its last occurrence in the
    // secret (not counting the secret's own last byte), or past it when c is not there. A shift is capped at 255,
    // which only makes a long secret's search take smaller steps.
    const std::size_t length = m_secret.size();
    m_shift.fill(static_cast<std::uint8_t>(std::min<std::size_t>(length, 255)));
    for (std::size_t k = 0; k + 1 < length; ++k)
        m_shift[static_cast<unsigned char>(m_secret[k])] = static_cast<std::uint8_t>(std::min<std::size_t>(length - 1 - k, 255));
}

std::size_t SecretRedactor::find(std::string_view text, std::size_t from) const {
    const std::size_t length = m_secret.size();
    const char last = m_secret[length - 1];
    for (std::size_t at = from; at + length <= text.size();) {
        const char c = text[at + length - 1];
        if (c == last && std::memcmp(text.data() + at, m_secret.data(), length - 1) == 0) return at;
        at += m_shift[static_cast<unsigned char>(c)];
    }
    return std::string_view::npos;
}

bool SecretRedactor::redactInPlace(std::string& text) const {
    if (m_secret.empty() || text.size() < m_secret.size()) return false;
    std::size_t hit = find(text, 0);
    if (hit == std::string_view::npos) return false;
    std::string out;
    out.reserve(text.size());
    std::size_t from = 0;
    while (hit != std::string_view::npos) {
        out.append(text, from, hit - from);
        out += kRedactedMark;
        from = hit + m_secret.size();
        hit = find(text, from);
    }
    out.append(text, from, std::string::npos);
    text = std::move(out);
    return true;
}

bool redactInPlace(std::string& text, std::string_view secret) {
    if (secret.size() < kMinRedactedSecret || text.size() < secret.size()) return false;
    return SecretRedactor(secret).redactInPlace(text);
}

std::string redacted(std::string text, std::string_view secret) {
    redactInPlace(text, secret);
    return text;
}

} // namespace fusebox
