#pragma once
// What a request needs from the engine, shared by every I/O thread (each member is thread-safe).
#include "breaker/CircuitBreaker.h"
#include "config/Config.h"
#include "core/Redaction.h"
#include "proxy/AgentActivity.h"
#include "proxy/RequestMemoryBudget.h"
#include "routing/AttemptRecord.h"
#include "routing/RouteTable.h"
#include "spend/SpendLedger.h"

#include <functional>
#include <vector>

namespace fusebox {

struct ProxyContext {
    const Config& config;
    RouteTable& routes;
    std::vector<CircuitBreaker*> breakers; // by provider index
    Clock& clock;
    // Each provider's key, taken out of what is relayed (by provider index): each search table built once.
    std::vector<SecretRedactor> redactors;
    std::function<void(AttemptRecord&&)> recordAttempt; // (handed over: the journal keeps it)
    // Refuses a provider whose daily budget is spent, like an open breaker; checked before the breaker.
    std::function<std::optional<BudgetRefusal>(std::size_t providerIndex)> budgetGate;
    // The memory the request bodies in flight may hold together (limits.max_body_memory_bytes); none: no bound.
    RequestMemoryBudget* memoryBudget = nullptr;
    // Counts agent requests for the console (none: not counted).
    AgentActivity* activity = nullptr;
};

} // namespace fusebox
