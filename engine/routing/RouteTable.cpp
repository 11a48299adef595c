#include "routing/RouteTable.h"

namespace fusebox {

RouteTable::RouteTable(const std::vector<ProviderConfig>& providers, std::vector<RouteConfig> routes)
    : m_providers(providers), m_routes(std::make_shared<const std::vector<RouteConfig>>(std::move(routes))) {}

std::optional<std::size_t> RouteTable::providerIndex(std::string_view id) const {
    for (std::size_t i = 0; i < m_providers.size(); ++i)
        if (m_providers[i].id == id) return i;
    return std::nullopt;
}

std::shared_ptr<const std::vector<RouteConfig>> RouteTable::routes() const {
    std::lock_guard lock(m_mutex);
    return m_routes;
}

Resolution RouteTable::resolve(std::string_view model) const {
    const auto routes = this->routes();
    Resolution out;
    auto fromRoute = [&](const RouteConfig& route, std::string_view clientModel) {
        out.route = route.name;
        out.metricsLabel = route.name;
        out.waitForRecoveryMs = route.waitForRecoveryMs;
        out.found = true;
        for (const auto& target : route.targets)
            if (auto index = providerIndex(target.provider))
                out.targets.push_back(
                    {*index, target.model.empty() ? std::string(clientModel) : target.model, !target.model.empty()});
    };
    for (const auto& route : *routes)
        if (route.name == model) {
            fromRoute(route, model);
            return out;
        }
    // PROVIDER/MODEL, when PROVIDER is one of ours. Model names may themselves hold a '/'
    // ("meta-llama/Llama-3"), so only a known provider id before the first '/' makes it direct.
    if (const auto slash = model.find('/'); slash != std::string_view::npos) {
        if (auto index = providerIndex(model.substr(0, slash))) {
            out.route = std::string(model);
            out.direct = true;
            out.found = true;
            out.targets.push_back({*index, std::string(model.substr(slash + 1)), true});
            const std::string_view provider = model.substr(0, slash);
            const std::string_view wanted = model.substr(slash + 1);
            out.metricsLabel = std::string(provider) + "/*";
            for (const auto& route : *routes)
                for (const auto& target : route.targets)
                    if (target.provider == provider && target.model == wanted) out.metricsLabel = out.route;
            return out;
        }
    }
    for (const auto& route : *routes)
        if (route.name == "default") {
            fromRoute(route, model);
            return out;
        }
    return out;
}

std::optional<std::string> RouteTable::setTargets(const std::string& route, std::vector<RouteTarget> targets) {
    if (targets.empty()) return "a route needs at least one target";
    for (const auto& target : targets) {
        if (!providerIndex(target.provider)) return "no provider has the id \"" + target.provider + "\"";
    }
    std::lock_guard lock(m_mutex);
    auto next = std::make_shared<std::vector<RouteConfig>>(*m_routes);
    for (auto& r : *next) {
        if (r.name != route) continue;
        r.targets = std::move(targets);
        m_routes = std::move(next);
        return std::nullopt;
    }
    return "no route is named \"" + route + "\"";
}

const RouteConfig* findRoute(const std::vector<RouteConfig>& routes, std::string_view name) {
    for (const auto& r : routes)
        if (r.name == name) return &r;
    return nullptr;
}

std::string describeTargets(const std::vector<RouteTarget>& targets) {
    std::string text;
    for (const auto& t : targets) text += (text.empty() ? "" : ", ") + t.provider + (t.model.empty() ? "" : "/" + t.model);
    return text;
}

} // namespace fusebox
