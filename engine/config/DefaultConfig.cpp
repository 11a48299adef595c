#include "config/DefaultConfig.h"

#include "DefaultConfigText.h"
#include "core/AtomicFile.h"

namespace fusebox {

namespace {
std::string home(const Environment& env) { return env("HOME").value_or("/root"); }
} // namespace

std::string defaultConfigPath(const Environment& env) {
    auto xdg = env("XDG_CONFIG_HOME");
    const std::string base = xdg && !xdg->empty() ? *xdg : home(env) + "/.config";
    return base + "/fusebox/config.json";
}

std::string defaultDataDir(const Environment& env) {
    auto xdg = env("XDG_DATA_HOME");
    const std::string base = xdg && !xdg->empty() ? *xdg : home(env) + "/.local/share";
    return base + "/fusebox";
}

std::string expandHome(const std::string& path, const Environment& env) {
    if (path == "~") return home(env);
    if (path.starts_with("~/")) return home(env) + path.substr(1);
    return path;
}

std::string_view defaultConfigText() { return embedded::kDefaultConfig; }

bool writeDefaultConfig(const std::string& path, std::string& error) {
    return writeFileAtomically(path, defaultConfigText(), error);
}

} // namespace fusebox
