#include "config/Config.h"

namespace fusebox {

const char* providerKindName(ProviderKind kind) { return kind == ProviderKind::OpenAI ? "openai" : "anthropic"; }

const ProviderConfig* Config::findProvider(std::string_view id) const {
    for (const auto& p : providers)
        if (p.id == id) return &p;
    return nullptr;
}

const RouteConfig* Config::findRoute(std::string_view name) const {
    for (const auto& r : routes)
        if (r.name == name) return &r;
    return nullptr;
}

} // namespace fusebox
