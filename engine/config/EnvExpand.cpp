#include "config/EnvExpand.h"

#include <cstdlib>

namespace fusebox {

Environment processEnvironment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

namespace {
bool validNameChar(char c, bool first) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}
} // namespace

Expansion expandVariables(std::string_view text, const Environment& env) {
    Expansion out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
            out.value += text[i++];
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            out.error = "unterminated ${ (write ${NAME})";
            return out;
        }
        const std::string name(text.substr(i + 2, close - i - 2));
        bool valid = !name.empty();
        for (std::size_t k = 0; k < name.size() && valid; ++k) valid = validNameChar(name[k], k == 0);
        if (!valid) {
            out.error = "\"${" + name + "}\" is not a variable reference (names are letters, digits and _)";
            return out;
        }
        out.variables.push_back(name);
        if (auto value = env(name))
            out.value += *value;
        else
            out.unset.push_back(name);
        i = close + 1;
    }
    return out;
}

} // namespace fusebox
