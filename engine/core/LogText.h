#pragma once
// How untrusted text (a client's model name, a provider's error) is made safe for a log line: clipped to a bound,
// and escaped when it holds anything a terminal or a line-based log reader would act on.
#include <cstddef>
#include <string>
#include <string_view>

namespace fusebox {

// Bounds for one field's value and for a message: enough for any id, path or error text, and a client's 20 MiB
// "model" still costs a log line only this much.
inline constexpr std::size_t kMaxLogValueBytes = 1024;
inline constexpr std::size_t kMaxLogMessageBytes = 4096;

// `text` when it is at most `limit` bytes; else its first bytes up to `limit`, cut on a UTF-8 character boundary,
// followed by "…(N bytes)" with the whole size, built in `storage`.
std::string_view clipForLog(std::string_view text, std::size_t limit, std::string& storage);

// Whether `text` is valid UTF-8 free of control characters: C0 (below 0x20: CR, LF, ESC, ...), DEL (0x7f) and
// C1 (U+0080 to U+009F, which some terminals take as escape sequences too).
bool isPrintableText(std::string_view text);

// Appends `text` as a JSON string literal, quotes included: control characters (as above) as \uXXXX or their
// short escapes, a byte that is not UTF-8 as \ufffd.
void appendJsonString(std::string& out, std::string_view text);

} // namespace fusebox
