#pragma once
// The one validating factory for Config: parses JSON (nlohmann), checks every key, type, range and cross-field
// rule, and returns either a Config or every error found, each with file, line, column and key path.
#include "config/Config.h"
#include "config/ConfigError.h"
#include "config/EnvExpand.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox {

struct LoadOptions {
    Environment env = processEnvironment();
    std::optional<std::string> listenOverride; // --listen HOST:PORT
};

struct ConfigResult {
    std::optional<Config> config;
    std::vector<ConfigError> errors;
    std::vector<std::string> warnings; // loadable, but a person should know (a provider without a key)
    bool ok() const { return config.has_value(); }
};

ConfigResult parseConfig(std::string_view text, const std::string& fileName, const LoadOptions& options = {});
ConfigResult loadConfigFile(const std::string& path, const LoadOptions& options = {});

} // namespace fusebox
