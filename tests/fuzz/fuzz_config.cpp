// parseConfig: any text gives either a Config or a list of errors, never an exception, and never the loader's
// last-resort "cannot read this config" (its catch turns an escaping exception into that error; reaching it
// means some access did not check its type first). A Config it accepts must keep the promises the loader
// validates: unique provider ids, and every route's targets naming a provider, so that RouteTable resolves each
// route to all of its targets.
//
// The environment is fixed and empty (every ${NAME} is unset), so a run never reads the process environment.
#include "config/ConfigLoader.h"
#include "routing/RouteTable.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

// prices_file names a file the loader reads: a device or a FIFO there would hang or flood the run, not find a
// bug. Inputs whose prices_file could reach one (a '/', '~' or ${NAME} in it) are skipped; a bare name (a file
// in the working directory, which holds none of those) still runs the price-file path.
bool readsOutside(std::string_view text) {
    const auto root = nlohmann::ordered_json::parse(text, nullptr, false); // as the loader reads it
    if (!root.is_object()) return false;
    auto it = root.find("prices_file");
    if (it == root.end() || !it->is_string()) return false;
    return it->get_ref<const std::string&>().find_first_of("/~$") != std::string::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (readsOutside(text)) return 0;

    fusebox::LoadOptions options;
    options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    const fusebox::ConfigResult result = fusebox::parseConfig(text, "fuzz.json", options);

    check(result.ok() == result.errors.empty());
    for (const auto& error : result.errors) {
        check(error.file == "fuzz.json" || error.file.empty());
        check(!error.message.empty());
        check(error.message.rfind("cannot read this config", 0) != 0);
        (void)error.format();
    }
    (void)fusebox::formatErrors(result.errors);
    if (!result.ok()) return 0;

    const fusebox::Config& config = *result.config;
    std::set<std::string> ids;
    for (const auto& provider : config.providers) check(ids.insert(provider.id).second);
    fusebox::RouteTable table(config.providers, config.routes);
    for (const auto& route : config.routes) {
        const fusebox::Resolution resolution = table.resolve(route.name);
        check(resolution.found);
        check(resolution.targets.size() == route.targets.size());
        for (const auto& target : resolution.targets) check(target.providerIndex < config.providers.size());
    }
    return 0;
}
