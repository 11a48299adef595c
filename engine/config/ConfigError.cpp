#include "config/ConfigError.h"

namespace fusebox {

std::string ConfigError::format() const {
    std::string text;
    if (!file.empty()) text += file + ":";
    if (line > 0) text += std::to_string(line) + ":" + (column > 0 ? std::to_string(column) + ":" : "");
    if (!text.empty()) text += " ";
    if (!path.empty()) text += path + ": ";
    return text + message;
}

std::string formatErrors(const std::vector<ConfigError>& errors) {
    std::string text;
    for (const auto& e : errors) text += e.format() + "\n";
    return text;
}

} // namespace fusebox
