#pragma once
// Log lines on stderr: text (default) or one JSON object per line (--log-format json). Every line about a request
// carries its request_id. Nothing here ever sees a provider key: callers log ids, never headers or bodies.
#include <chrono>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace fusebox {

class Clock;

enum class LogLevel { Debug, Info, Warn, Error };

using LogField = std::pair<std::string_view, std::string>;

class Log {
public:
    static void setJson(bool json);
    static void setMinimum(LogLevel level);
    static void write(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});
    static void info(std::string_view message, std::initializer_list<LogField> fields = {}) {
        write(LogLevel::Info, message, fields);
    }
    static void warn(std::string_view message, std::initializer_list<LogField> fields = {}) {
        write(LogLevel::Warn, message, fields);
    }
    static void error(std::string_view message, std::initializer_list<LogField> fields = {}) {
        write(LogLevel::Error, message, fields);
    }
    static void debug(std::string_view message, std::initializer_list<LogField> fields = {}) {
        write(LogLevel::Debug, message, fields);
    }

    // For a line a condition may repeat many times a second (accept() failing while file descriptors run out): at
    // most one line per `interval` for each `key`; the lines held back in between are counted, and the next line
    // written for that key carries suppressed=N. Thread-safe; a few hundred keys at most are remembered.
    static void throttled(LogLevel level, std::string_view key, std::chrono::seconds interval,
                          std::string_view message, std::initializer_list<LogField> fields = {});
    // The clock throttled() measures intervals by: the system clock, or `clock` (a test's ManualClock) until
    // called again with nullptr. `clock` must outlive its use.
    static void setThrottleClock(const Clock* clock);

private:
    static void writeLine(LogLevel level, std::string_view message, std::span<const LogField> fields);
};

} // namespace fusebox
