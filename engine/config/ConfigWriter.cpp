#include "config/ConfigWriter.h"

#include "core/AtomicFile.h"

#include <nlohmann/json.hpp>

namespace fusebox {

bool writeRouteTargets(const std::string& path, const std::string& route, const std::vector<RouteTarget>& targets,
                       std::string& error) {
    std::string text;
    if (!readFile(path, text, error)) return false;
    // ordered_json keeps the file's key order; the raw text keeps ${NAME} references unexpanded.
    nlohmann::ordered_json root = nlohmann::ordered_json::parse(text, nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        error = path + " is no longer valid JSON; not writing to it";
        return false;
    }
    auto routes = root.find("routes");
    if (routes == root.end() || !routes->is_array()) {
        error = path + " has no routes array";
        return false;
    }
    for (auto& entry : *routes) {
        // Checked by hand: value("name", "") throws when a hand-edited file has a name that is not a string.
        if (!entry.is_object()) continue;
        const auto name = entry.find("name");
        if (name == entry.end() || !name->is_string() || name->get_ref<const std::string&>() != route) continue;
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& t : targets) {
            nlohmann::ordered_json target = {{"provider", t.provider}};
            if (!t.model.empty()) target["model"] = t.model;
            list.push_back(std::move(target));
        }
        entry["targets"] = std::move(list);
        return writeFileAtomically(path, root.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n",
                                   error);
    }
    error = "route \"" + route + "\" is not in " + path + " (it may come from --demo); not persisted";
    return false;
}

} // namespace fusebox
