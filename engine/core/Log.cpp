#include "core/Log.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace fusebox {

namespace {
std::atomic<bool> g_json{false};
std::atomic<int> g_minimum{static_cast<int>(LogLevel::Info)};
std::mutex g_mutex;

const char* levelName(LogLevel level) {
    switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    }
    return "info";
}

std::string timestamp() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buffer;
}

bool needsQuotes(std::string_view value) {
    return value.empty() || value.find_first_of(" \"=\t\n") != std::string_view::npos;
}
} // namespace

void Log::setJson(bool json) { g_json = json; }
void Log::setMinimum(LogLevel level) { g_minimum = static_cast<int>(level); }

void Log::write(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
    if (static_cast<int>(level) < g_minimum.load(std::memory_order_relaxed)) return;
    std::string line;
    if (g_json) {
        nlohmann::json object = {{"time", timestamp()}, {"level", levelName(level)}, {"msg", message}};
        for (const auto& [key, value] : fields) object[std::string(key)] = value;
        line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        line = timestamp() + " " + levelName(level) + " " + std::string(message);
        for (const auto& [key, value] : fields) {
            line += " " + std::string(key) + "=";
            line += needsQuotes(value) ? nlohmann::json(value).dump(-1, ' ', false,
                                                                    nlohmann::json::error_handler_t::replace)
                                       : value;
        }
    }
    line += '\n';
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace fusebox
