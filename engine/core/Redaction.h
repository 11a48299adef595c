#pragma once
// A provider's key must never leave Fusebox except toward that provider (CONTRACT §2 "Credentials"). Providers
// echo what they were sent: in error messages ("Incorrect API key provided: sk-..."), in rate-limit headers, in
// stream events. Every byte relayed to a client, logged or journaled passes through here first.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace fusebox {

// Keys shorter than this are not searched for: a 3-letter "key" would blank out ordinary words. Real keys are
// 20 to 200 characters.
inline constexpr std::size_t kMinRedactedSecret = 8;
inline constexpr std::string_view kRedactedMark = "[redacted]";

// One secret, searched for in many texts (every event of a stream): its search table is built once, not per text.
// Boyer-Moore-Horspool, so that the common "not found" looks at a fraction of the bytes.
class SecretRedactor {
public:
    SecretRedactor() = default; // redacts nothing
    explicit SecretRedactor(std::string_view secret);
    // Replaces every occurrence of the secret in `text`; returns whether there was one.
    bool redactInPlace(std::string& text) const;

private:
    std::size_t find(std::string_view text, std::size_t from) const;
    std::string m_secret; // empty: too short to search for
    std::array<std::uint8_t, 256> m_shift{}; // how far the window may move on its last byte (capped at 255)
};

// Replaces every occurrence of `secret` in `text`; returns whether there was one.
bool redactInPlace(std::string& text, std::string_view secret);
std::string redacted(std::string text, std::string_view secret);

} // namespace fusebox
