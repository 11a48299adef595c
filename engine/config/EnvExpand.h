#pragma once
// ${NAME} expansion in config strings (CONTRACT §2).
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox {

using Environment = std::function<std::optional<std::string>(const std::string& name)>;
Environment processEnvironment();

struct Expansion {
    std::string value;
    std::vector<std::string> variables; // every name referenced, in order
    std::vector<std::string> unset;     // the referenced names that were not set (they expand to "")
    std::string error;                  // non-empty for a malformed reference
};

Expansion expandVariables(std::string_view text, const Environment& env);

} // namespace fusebox
