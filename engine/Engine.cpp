#include "Engine.h"

#include "breaker/CircuitBreaker.h"

#include <cstring>

namespace fusebox {

const ProviderSnapshot* EngineSnapshot::findProvider(std::string_view id) const {
    for (const auto& p : providers)
        if (p.id == id) return &p;
    return nullptr;
}

Engine::Engine(Config config, Clock& clock, Random& random)
    : m_config(std::move(config)), m_clock(clock), m_random(random) {
    for (const auto& provider : m_config.providers)
        m_breakers.push_back(std::make_unique<CircuitBreaker>(provider.id, provider.breaker, m_clock, m_random,
                                                              &m_events));
}

Engine::~Engine() = default;

CircuitBreaker* Engine::breaker(std::string_view provider) {
    for (std::size_t i = 0; i < m_config.providers.size(); ++i)
        if (m_config.providers[i].id == provider) return m_breakers[i].get();
    return nullptr;
}

ProviderSnapshot Engine::providerSnapshot(std::size_t index) const {
    const auto& config = m_config.providers[index];
    ProviderSnapshot p;
    p.id = config.id;
    p.kind = config.kind;
    p.baseUrl = config.baseUrl;
    p.hasKey = config.hasKey();
    if (!p.hasKey)
        p.keyHint = config.apiKeyVariables.empty() ? "no api_key configured" : "set " + config.apiKeyVariables.front();
    p.breaker = m_breakers[index]->snapshot();
    return p;
}

EngineSnapshot Engine::snapshot() const {
    EngineSnapshot s;
    s.takenAt = m_clock.wallNow();
    for (std::size_t i = 0; i < m_config.providers.size(); ++i) s.providers.push_back(providerSnapshot(i));
    s.routes = m_config.routes;
    return s;
}

CommandResult Engine::operatorCommand(const std::string& provider, const char* action, const std::string& reason) {
    for (std::size_t i = 0; i < m_config.providers.size(); ++i) {
        if (m_config.providers[i].id != provider) continue;
        CircuitBreaker& breaker = *m_breakers[i];
        if (std::strcmp(action, "force_open") == 0) breaker.forceOpen(reason);
        else if (std::strcmp(action, "force_close") == 0) breaker.forceClose(reason);
        else breaker.reset(reason);

        Event event;
        event.type = EventType::Operator;
        event.at = m_clock.wallNow();
        event.provider = provider;
        event.action = action;
        event.reason = reason.empty() ? std::string(action) + " (no reason given)" : reason;
        m_events.publish(std::move(event));
        return {true, 200, {}, providerSnapshot(i)};
    }
    return {false, 404, "no provider has the id \"" + provider + "\"", std::nullopt};
}

CommandResult Engine::forceOpen(const std::string& provider, const std::string& reason) {
    return operatorCommand(provider, "force_open", reason);
}
CommandResult Engine::forceClose(const std::string& provider, const std::string& reason) {
    return operatorCommand(provider, "force_close", reason);
}
CommandResult Engine::reset(const std::string& provider, const std::string& reason) {
    return operatorCommand(provider, "reset", reason);
}

} // namespace fusebox
