#pragma once
// A provider's key must never leave Fusebox except toward that provider (CONTRACT §2 "Credentials"). Providers
// echo what they were sent: in error messages ("Incorrect API key provided: sk-..."), in rate-limit headers, in
// stream events. Every byte relayed to a client, logged or journaled passes through here first.
#include <string>
#include <string_view>

namespace fusebox {

// Keys shorter than this are not searched for: a 3-letter "key" would blank out ordinary words. Real keys are
// 20 to 200 characters.
inline constexpr std::size_t kMinRedactedSecret = 8;
inline constexpr std::string_view kRedactedMark = "[redacted]";

// Replaces every occurrence of `secret` in `text`; returns whether there was one.
bool redactInPlace(std::string& text, std::string_view secret);
std::string redacted(std::string text, std::string_view secret);

} // namespace fusebox
