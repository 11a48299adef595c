#pragma once
// Which repetitions of a log line are written: at most one per interval for each key, the rest counted, so that a
// condition that repeats every few milliseconds (accept() failing while file descriptors are exhausted) costs one
// line per interval that says how many it stood for, instead of flooding stderr and the disk.
#include "core/Clock.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fusebox {

class LogThrottle {
public:
    // Enough for every repeated condition the engine logs. Past it, keys whose interval has ended are forgotten, or
    // else the one whose interval ends first.
    static constexpr std::size_t kDefaultMaxKeys = 256;

    explicit LogThrottle(std::size_t maxKeys = kDefaultMaxKeys);

    // Whether a line for `key` is written at `now`: nullopt when it is held back (and counted); otherwise how many
    // were held back since the last one written. Thread-safe.
    std::optional<uint64_t> admit(std::string_view key, std::chrono::seconds interval, SteadyTime now);

    std::size_t keyCount() const;

private:
    struct Entry {
        SteadyTime quietUntil; // no line for this key before this
        uint64_t suppressed = 0;
    };

    void makeRoom(SteadyTime now);

    const std::size_t m_maxKeys;
    mutable std::mutex m_mutex;
    std::unordered_map<std::string, Entry> m_entries;
};

} // namespace fusebox
