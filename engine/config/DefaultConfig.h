#pragma once
// Where the config lives when --config is not given, and the config written there on first start.
#include "config/EnvExpand.h"

#include <string>
#include <string_view>

namespace fusebox {

// $XDG_CONFIG_HOME/fusebox/config.json, else ~/.config/fusebox/config.json.
std::string defaultConfigPath(const Environment& env);
// $XDG_DATA_HOME/fusebox, else ~/.local/share/fusebox.
std::string defaultDataDir(const Environment& env);
// A leading "~/" becomes $HOME/.
std::string expandHome(const std::string& path, const Environment& env);

// The documented default config (resources/default-config.json, built into the binary).
std::string_view defaultConfigText();
bool writeDefaultConfig(const std::string& path, std::string& error);

} // namespace fusebox
