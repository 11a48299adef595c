#pragma once
// Typed, error-collecting access to a parsed config document: every getter checks type and range, expands
// ${NAME}, and on a problem records an error with the key path and its line instead of throwing, so one run
// reports everything wrong with a file.
#include "config/ConfigError.h"
#include "config/EnvExpand.h"
#include "config/JsonPositions.h"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox {

using Json = nlohmann::ordered_json;

class ConfigReader {
public:
    ConfigReader(std::string file, const JsonPositions& positions, const Environment& env,
                 std::vector<ConfigError>& errors);

    void error(const std::string& path, std::string message);

    static std::string join(const std::string& path, std::string_view key);
    static std::string index(const std::string& path, std::size_t i);

    bool expectObject(const Json& value, const std::string& path);
    bool expectArray(const Json& value, const std::string& path);
    // Reports every key of `object` not in `known`, suggesting the nearest known one.
    void rejectUnknownKeys(const Json& object, const std::string& path, std::initializer_list<std::string_view> known);

    // Getters for object[key]; nullopt when absent (an error first, when required) or wrong.
    std::optional<Expansion> expandedString(const Json& object, std::string_view key, const std::string& path,
                                            bool required = false);
    std::optional<std::string> string(const Json& object, std::string_view key, const std::string& path,
                                      bool required = false);
    std::optional<int64_t> integer(const Json& object, std::string_view key, const std::string& path, int64_t min,
                                   int64_t max);
    std::optional<double> number(const Json& object, std::string_view key, const std::string& path, double min,
                                 double max, bool minExclusive = false);
    std::optional<bool> boolean(const Json& object, std::string_view key, const std::string& path);

private:
    const Json* field(const Json& object, std::string_view key, const std::string& path, bool required);
    std::string m_file;
    const JsonPositions& m_positions;
    const Environment& m_env;
    std::vector<ConfigError>& m_errors;
};

const char* jsonTypeName(const Json& value);

} // namespace fusebox
