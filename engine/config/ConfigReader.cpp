#include "config/ConfigReader.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace fusebox {

namespace {

std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string formatNumber(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

std::string describeRange(double min, double max, bool minExclusive) {
    const bool unbounded = max >= 1e300;
    if (unbounded) return std::string(minExclusive ? "> " : "\u2265 ") + formatNumber(min);
    return std::string("between ") + formatNumber(min) + (minExclusive ? " (exclusive)" : "") + " and " +
           formatNumber(max);
}

} // namespace

const char* jsonTypeName(const Json& value) {
    switch (value.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "a whole number";
    case Json::value_t::number_float: return "a number";
    default: return "something else";
    }
}

ConfigReader::ConfigReader(std::string file, const JsonPositions& positions, const Environment& env,
                           std::vector<ConfigError>& errors)
    : m_file(std::move(file)), m_positions(positions), m_env(env), m_errors(errors) {}

void ConfigReader::error(const std::string& path, std::string message) {
    const TextPosition pos = m_positions.find(path);
    m_errors.push_back({m_file, pos.line, pos.column, path, std::move(message)});
}

std::string ConfigReader::join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string ConfigReader::index(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

bool ConfigReader::expectObject(const Json& value, const std::string& path) {
    if (value.is_object()) return true;
    error(path, std::string("must be an object (got ") + jsonTypeName(value) + ")");
    return false;
}

bool ConfigReader::expectArray(const Json& value, const std::string& path) {
    if (value.is_array()) return true;
    error(path, std::string("must be an array (got ") + jsonTypeName(value) + ")");
    return false;
}

void ConfigReader::rejectUnknownKeys(const Json& object, const std::string& path,
                                     std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        // Built with append: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&& here.
        std::string message = "unknown key \"";
        message.append(key).append("\"");
        std::string_view best;
        std::size_t bestDistance = 3; // suggest only near misses: a typo, not a different word
        for (std::string_view candidate : known) {
            const std::size_t d = editDistance(key, candidate);
            if (d < bestDistance) best = candidate, bestDistance = d;
        }
        if (!best.empty()) message.append(" (did you mean \"").append(best).append("\"?)");
        else {
            message += "; known keys:";
            for (std::string_view candidate : known) message.append(" ").append(candidate);
        }
        error(join(path, key), std::move(message));
    }
}

const Json* ConfigReader::field(const Json& object, std::string_view key, const std::string& path, bool required) {
    auto it = object.find(std::string(key));
    if (it == object.end()) {
        if (required) error(path, "missing required key \"" + std::string(key) + "\"");
        return nullptr;
    }
    return &*it;
}

std::optional<Expansion> ConfigReader::expandedString(const Json& object, std::string_view key,
                                                      const std::string& path, bool required) {
    const Json* value = field(object, key, path, required);
    if (value == nullptr) return std::nullopt;
    const std::string keyPath = join(path, key);
    if (!value->is_string()) {
        error(keyPath, std::string("must be a string (got ") + jsonTypeName(*value) + ")");
        return std::nullopt;
    }
    Expansion expansion = expandVariables(value->get_ref<const std::string&>(), m_env);
    if (!expansion.error.empty()) {
        error(keyPath, expansion.error);
        return std::nullopt;
    }
    return expansion;
}

std::optional<std::string> ConfigReader::string(const Json& object, std::string_view key, const std::string& path,
                                                bool required) {
    auto expansion = expandedString(object, key, path, required);
    if (!expansion) return std::nullopt;
    return std::move(expansion->value);
}

std::optional<int64_t> ConfigReader::integer(const Json& object, std::string_view key, const std::string& path,
                                             int64_t min, int64_t max) {
    const Json* value = field(object, key, path, false);
    if (value == nullptr) return std::nullopt;
    const std::string keyPath = join(path, key);
    if (!value->is_number_integer()) {
        std::string message = std::string("must be a whole number (got ") + jsonTypeName(*value);
        if (value->is_number()) message.append(" ").append(value->dump());
        error(keyPath, message + ")");
        return std::nullopt;
    }
    const int64_t v = value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                          ? INT64_MAX
                          : value->get<int64_t>();
    if (v < min || v > max) {
        error(keyPath, "must be " + describeRange(static_cast<double>(min), max == INT64_MAX ? 1e301 : static_cast<double>(max), false) +
                           " (got " + std::to_string(v) + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<double> ConfigReader::number(const Json& object, std::string_view key, const std::string& path,
                                           double min, double max, bool minExclusive) {
    const Json* value = field(object, key, path, false);
    if (value == nullptr) return std::nullopt;
    const std::string keyPath = join(path, key);
    if (!value->is_number()) {
        error(keyPath, std::string("must be a number (got ") + jsonTypeName(*value) + ")");
        return std::nullopt;
    }
    const double v = value->get<double>();
    if (!std::isfinite(v) || v < min || v > max || (minExclusive && v == min)) {
        error(keyPath, "must be " + describeRange(min, max, minExclusive) + " (got " + formatNumber(v) + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<bool> ConfigReader::boolean(const Json& object, std::string_view key, const std::string& path) {
    const Json* value = field(object, key, path, false);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) {
        error(join(path, key), std::string("must be true or false (got ") + jsonTypeName(*value) + ")");
        return std::nullopt;
    }
    return value->get<bool>();
}

} // namespace fusebox
