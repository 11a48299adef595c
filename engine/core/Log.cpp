#include "core/Log.h"

#include "core/Clock.h"
#include "core/LogText.h"
#include "core/LogThrottle.h"
#include "core/TimeFormat.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <vector>

namespace fusebox {

namespace {
std::atomic<bool> g_json{false};
std::atomic<int> g_minimum{static_cast<int>(LogLevel::Info)};
std::mutex g_mutex;
std::atomic<const Clock*> g_throttleClock{nullptr}; // nullptr: the system clock

// Never destroyed: an I/O thread may still log while the process exits.
LogThrottle& throttle() {
    static LogThrottle* const instance = new LogThrottle();
    return *instance;
}

const char* levelName(LogLevel level) {
    switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    }
    return "info";
}

// key=value stays readable for the usual value; anything else is a JSON string, which also keeps a line one line.
bool needsQuotes(std::string_view value) {
    return value.empty() || value.find_first_of(" \"=") != std::string_view::npos || !isPrintableText(value);
}
} // namespace

void Log::setJson(bool json) { g_json = json; }
void Log::setMinimum(LogLevel level) { g_minimum = static_cast<int>(level); }

void Log::write(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
    if (static_cast<int>(level) < g_minimum.load(std::memory_order_relaxed)) return;
    writeLine(level, message, std::span<const LogField>(fields.begin(), fields.size()));
}

void Log::throttled(LogLevel level, std::string_view key, std::chrono::seconds interval, std::string_view message,
                    std::initializer_list<LogField> fields) {
    // A line below the minimum is neither written nor counted.
    if (static_cast<int>(level) < g_minimum.load(std::memory_order_relaxed)) return;
    const Clock* clock = g_throttleClock.load(std::memory_order_acquire);
    const auto suppressed = throttle().admit(key, interval, (clock ? *clock : SystemClock::instance()).now());
    if (!suppressed) return;
    if (*suppressed == 0) return writeLine(level, message, std::span<const LogField>(fields.begin(), fields.size()));
    std::vector<LogField> withCount(fields);
    withCount.emplace_back("suppressed", std::to_string(*suppressed));
    writeLine(level, message, withCount);
}

void Log::setThrottleClock(const Clock* clock) { g_throttleClock.store(clock, std::memory_order_release); }

void Log::writeLine(LogLevel level, std::string_view message, std::span<const LogField> fields) {
    std::string line;
    // Clipped first, so that a 20 MiB model name is neither escaped nor written whole.
    std::string messageStorage, valueStorage;
    message = clipForLog(message, kMaxLogMessageBytes, messageStorage);
    if (g_json) {
        nlohmann::json object = {{"time", isoTime(std::chrono::system_clock::now())}, {"level", levelName(level)}, {"msg", message}};
        for (const auto& [key, value] : fields)
            object[std::string(key)] = clipForLog(value, kMaxLogValueBytes, valueStorage);
        line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        // A model name or a path with a CR, LF or ESC in it must not start a forged line or drive the terminal.
        line = isoTime(std::chrono::system_clock::now()) + " " + levelName(level) + " ";
        if (isPrintableText(message)) line += message;
        else appendJsonString(line, message);
        for (const auto& [key, value] : fields) {
            const std::string_view shown = clipForLog(value, kMaxLogValueBytes, valueStorage);
            line.append(" ").append(key).append("=");
            if (needsQuotes(shown)) appendJsonString(line, shown);
            else line += shown;
        }
    }
    line += '\n';
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace fusebox
