#include "breaker/RetryAfter.h"

#include <charconv>
#include <ctime>
#include <string>

namespace fusebox {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The three date forms RFC 9110 obliges a recipient to accept; strptime does the field work, in the C locale
// that every Debian process starts in.
std::optional<std::time_t> parseHttpDate(const std::string& text) {
    static const char* const kFormats[] = {
        "%a, %d %b %Y %H:%M:%S GMT", // IMF-fixdate
        "%A, %d-%b-%y %H:%M:%S GMT", // obsolete RFC 850
        "%a %b %e %H:%M:%S %Y",      // obsolete asctime
    };
    for (const char* format : kFormats) {
        std::tm tm{};
        const char* end = strptime(text.c_str(), format, &tm);
        if (end != nullptr && *end == '\0') return timegm(&tm);
    }
    return std::nullopt;
}

} // namespace

std::optional<Millis> parseRetryAfter(std::string_view value, WallTime now) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (value.front() >= '0' && value.front() <= '9') {
        // Some providers send fractional seconds ("1.5"); accept them rather than fall back to the default.
        double seconds = 0;
        auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec != std::errc{} || ptr != value.data() + value.size() || seconds < 0) return std::nullopt;
        return Millis{static_cast<int64_t>(seconds * 1000.0 + 0.5)};
    }
    auto date = parseHttpDate(std::string(value));
    if (!date) return std::nullopt;
    auto delay = std::chrono::system_clock::from_time_t(*date) - now;
    if (delay.count() < 0) return Millis{0};
    return std::chrono::ceil<Millis>(delay);
}

std::string formatHttpDate(WallTime time) {
    std::time_t t = std::chrono::system_clock::to_time_t(time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buffer;
}

} // namespace fusebox
