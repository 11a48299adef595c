#pragma once
// Log lines on stderr: text (default) or one JSON object per line (--log-format json). Every line about a request
// carries its request_id. Nothing here ever sees a provider key: callers log ids, never headers or bodies.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace fusebox {

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
};

} // namespace fusebox
