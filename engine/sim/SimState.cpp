#include "sim/SimState.h"

#include <algorithm>
#include <cctype>

namespace fusebox::sim {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

template <class T> T load(const std::atomic<T>& value) {
    return value.load(std::memory_order_relaxed);
}

} // namespace

std::string RecordedRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (equalsIgnoreCase(key, name)) return value;
    return {};
}

bool RecordedRequest::hasHeader(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(),
                       [name](const auto& field) { return equalsIgnoreCase(field.first, name); });
}

uint64_t SimState::countRequest(Endpoint endpoint) {
    counters.requests.fetch_add(1, std::memory_order_relaxed);
    switch (endpoint) {
    case Endpoint::ChatCompletions:
        counters.chatCompletions.fetch_add(1, std::memory_order_relaxed);
        break;
    case Endpoint::Embeddings:
        counters.embeddings.fetch_add(1, std::memory_order_relaxed);
        break;
    case Endpoint::Messages:
        counters.messages.fetch_add(1, std::memory_order_relaxed);
        break;
    case Endpoint::Models:
        counters.models.fetch_add(1, std::memory_order_relaxed);
        break;
    case Endpoint::Responses:
        counters.responses.fetch_add(1, std::memory_order_relaxed);
        break;
    case Endpoint::Completions:
        counters.completions.fetch_add(1, std::memory_order_relaxed);
        break;
    case Endpoint::CountTokens:
        counters.countTokens.fetch_add(1, std::memory_order_relaxed);
        break;
    case Endpoint::Unknown:
        counters.notFound.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    return m_requestNumbers.fetch_add(1, std::memory_order_relaxed) + 1;
}

void SimState::record(RecordedRequest request) {
    std::lock_guard lock(m_recentMutex);
    if (options.recentCapacity == 0) return;
    if (m_recent.size() >= options.recentCapacity) m_recent.pop_front();
    m_recent.push_back(std::move(request));
}

std::vector<RecordedRequest> SimState::recent() const {
    std::lock_guard lock(m_recentMutex);
    return {m_recent.begin(), m_recent.end()};
}

Stats SimState::stats() const {
    Stats s;
    s.requests = load(counters.requests);
    s.chatCompletions = load(counters.chatCompletions);
    s.embeddings = load(counters.embeddings);
    s.messages = load(counters.messages);
    s.models = load(counters.models);
    s.responses = load(counters.responses);
    s.completions = load(counters.completions);
    s.countTokens = load(counters.countTokens);
    s.notFound = load(counters.notFound);
    s.connectionsAccepted = load(counters.connectionsAccepted);
    s.faultsInjected = load(counters.faultsInjected);
    s.streamsStarted = load(counters.streamsStarted);
    s.streamsCompleted = load(counters.streamsCompleted);
    s.streamsAborted = load(counters.streamsAborted);
    s.streamsCut = load(counters.streamsCut);
    s.openConnections = load(counters.openConnections);
    s.activeStreams = load(counters.activeStreams);
    s.hanging = load(counters.hanging);
    return s;
}

void SimState::resetCumulative() {
    for (auto* counter : {&counters.requests, &counters.chatCompletions, &counters.embeddings,
                          &counters.messages, &counters.models, &counters.notFound,
                          &counters.responses, &counters.completions, &counters.countTokens,
                          &counters.connectionsAccepted, &counters.faultsInjected, &counters.streamsStarted,
                          &counters.streamsCompleted, &counters.streamsAborted, &counters.streamsCut})
        counter->store(0, std::memory_order_relaxed);
    std::lock_guard lock(m_recentMutex);
    m_recent.clear();
}

} // namespace fusebox::sim
