#include "breaker/Outcome.h"

namespace fusebox {

namespace {
constexpr std::array<std::string_view, kOutcomeCount> kNames = {
    "success", "client_error", "auth_error", "rate_limited", "server_error",
    "timeout", "connect_error", "bad_response", "cancelled", "short_circuited"};
}

std::string_view outcomeName(Outcome outcome) { return kNames[static_cast<std::size_t>(outcome)]; }

std::optional<Outcome> outcomeFromName(std::string_view name) {
    for (std::size_t i = 0; i < kNames.size(); ++i)
        if (kNames[i] == name) return static_cast<Outcome>(i);
    return std::nullopt;
}

const std::array<Outcome, kOutcomeCount>& allOutcomes() {
    static const std::array<Outcome, kOutcomeCount> all = [] {
        std::array<Outcome, kOutcomeCount> a{};
        for (std::size_t i = 0; i < kOutcomeCount; ++i) a[i] = static_cast<Outcome>(i);
        return a;
    }();
    return all;
}

Outcome classify(int httpStatus, TransportError transport) {
    switch (transport) {
    case TransportError::Timeout: return Outcome::Timeout;
    case TransportError::Connect: return Outcome::ConnectError;
    case TransportError::BadResponse: return Outcome::BadResponse;
    case TransportError::Cancelled:
    case TransportError::Local: return Outcome::Cancelled; // proves nothing about the provider
    case TransportError::None: break;
    }
    if (httpStatus >= 200 && httpStatus < 300) return Outcome::Success;
    if (httpStatus == 401 || httpStatus == 403) return Outcome::AuthError;
    if (httpStatus == 408) return Outcome::ServerError; // the provider gave up waiting: its problem, not ours
    if (httpStatus == 429) return Outcome::RateLimited;
    if (httpStatus >= 400 && httpStatus < 500) return Outcome::ClientError;
    if (httpStatus >= 500 && httpStatus < 600) return Outcome::ServerError;
    // 1xx/3xx final answers and nonsense codes: an LLM API never means these.
    return Outcome::BadResponse;
}

} // namespace fusebox
