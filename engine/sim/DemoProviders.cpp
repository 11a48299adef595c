#include "sim/DemoProviders.h"

#include <algorithm>

namespace fusebox::sim {

namespace {

// The sims check the key, so the demo also shows that Fusebox sends the provider's key and not the client's.
constexpr const char* kDemoKey = "sim-demo-key";

Options demoOptions() {
    Options options;
    options.eventInterval = Millis{40};
    options.streamEvents = 20;
    options.apiKey = kDemoKey;
    return options;
}

// Shorter periods than the defaults, so a drill shows a breaker open, probe and close within a minute.
BreakerPolicy demoPolicy(BreakerPolicy policy) {
    policy.windowS = 30;
    policy.minCalls = 10;
    policy.openS = 10;
    policy.maxOpenS = 60;
    policy.slowCallMs = 2000;
    policy.slowCallRate = 0.5;
    return policy;
}

} // namespace

DemoProviders::DemoProviders()
    : m_primary(std::make_unique<SimProvider>(demoOptions())), m_backup(std::make_unique<SimProvider>(demoOptions())) {}

bool DemoProviders::start(std::string& error) {
    for (auto* sim : {m_primary.get(), m_backup.get()}) {
        if (!sim->start()) {
            error = "cannot start the demo providers: " + sim->lastError();
            return false;
        }
    }
    return true;
}

void DemoProviders::addTo(Config& config) const {
    auto& providers = config.providers;
    std::erase_if(providers, [](const ProviderConfig& p) { return p.id == kPrimary || p.id == kBackup; });
    for (const auto& [id, sim] : {std::pair{kPrimary, m_primary.get()}, std::pair{kBackup, m_backup.get()}}) {
        ProviderConfig p;
        p.id = id;
        p.kind = ProviderKind::OpenAI;
        p.baseUrl = sim->openaiBaseUrl();
        p.apiKey = kDemoKey;
        p.breaker = demoPolicy(config.breaker);
        p.timeouts.firstByte = Millis{10'000};
        p.timeouts.idle = Millis{5'000};
        p.timeouts.total = Millis{60'000};
        providers.push_back(std::move(p));
    }
    std::erase_if(config.routes, [](const RouteConfig& r) { return r.name == kRoute; });
    // Each target names its model, so the answers show which provider served them.
    config.routes.push_back({kRoute, {{kPrimary, "sim-1"}, {kBackup, "sim-1-mini"}}, 0});
}

const char* DemoProviders::priceTable() {
    return R"({"models": {"sim-1": {"input_per_mtok": 3.0, "output_per_mtok": 15.0},
                          "sim-1-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.6}}})";
}

SimProvider* DemoProviders::find(const std::string& providerId) {
    if (providerId == kPrimary) return m_primary.get();
    if (providerId == kBackup) return m_backup.get();
    return nullptr;
}

} // namespace fusebox::sim
