#pragma once
// The outcome class of one upstream attempt (CONTRACT §2 "Breaker semantics").
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace fusebox {

enum class Outcome : uint8_t {
    Success,
    ClientError,    // 4xx other than 401/403/408/429
    AuthError,      // 401/403, or the provider has no key
    RateLimited,    // 429
    ServerError,    // 5xx, 408
    Timeout,        // connect, first byte, idle or total deadline passed
    ConnectError,   // DNS, refused, TLS
    BadResponse,    // unparseable body, stream cut before its end
    Cancelled,      // the client went away
    ShortCircuited, // the breaker refused; no network call was made
};
inline constexpr std::size_t kOutcomeCount = 10;

// What went wrong below HTTP, if anything; decided by the upstream client. Local: this machine ran out of
// something (file descriptors, memory) before the provider was reached; never the provider's failure.
enum class TransportError : uint8_t { None, Timeout, Connect, BadResponse, Cancelled, Local };

std::string_view outcomeName(Outcome outcome);
std::optional<Outcome> outcomeFromName(std::string_view name);
const std::array<Outcome, kOutcomeCount>& allOutcomes();

// A transport error wins over the status (a 200 whose stream was cut is a bad_response).
Outcome classify(int httpStatus, TransportError transport = TransportError::None);

// A set of outcome classes, e.g. the ones that count as failures.
class OutcomeSet {
public:
    constexpr OutcomeSet() = default;
    constexpr OutcomeSet(std::initializer_list<Outcome> outcomes) {
        for (Outcome o : outcomes) insert(o);
    }
    constexpr void insert(Outcome o) { m_bits |= bit(o); }
    constexpr bool contains(Outcome o) const { return (m_bits & bit(o)) != 0; }
    constexpr bool operator==(const OutcomeSet&) const = default;

private:
    static constexpr uint16_t bit(Outcome o) { return static_cast<uint16_t>(1u << static_cast<unsigned>(o)); }
    uint16_t m_bits = 0;
};

} // namespace fusebox
