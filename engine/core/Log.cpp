#include "core/Log.h"

#include "core/TimeFormat.h"

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
        nlohmann::json object = {{"time", isoTime(std::chrono::system_clock::now())}, {"level", levelName(level)}, {"msg", message}};
        for (const auto& [key, value] : fields) object[std::string(key)] = value;
        line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
        line = isoTime(std::chrono::system_clock::now()) + " " + levelName(level) + " " + std::string(message);
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
