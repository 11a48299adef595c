// FleetWorker's half-open probe lease (CONTRACT §5: one probe in the whole fleet per open period). A replica
// whose breaker turned half-open takes PREFIX:probe:PROVIDER with SET NX PX (the provider's first_byte timeout);
// only then may its breaker let the probe through. The lease expires by itself, so a replica that dies
// mid-probe blocks nobody for longer than that.
#include "fleet/FleetWorker.h"

#include "breaker/CircuitBreaker.h"

#include <hiredis/hiredis.h>

namespace fusebox {

namespace {
// A lease held with no probe in flight is given back this long before Redis would drop it, so that this replica
// stops probing before another one may start.
constexpr Millis kLeaseMargin{250};
} // namespace

void FleetWorker::claimProbe(Slot& slot) {
    if (!connected() || slot.claiming) return;
    const std::optional<uint64_t> generation = slot.provider.breaker->awaitingFleetProbe();
    if (!generation) return;
    slot.claiming = true;
    const std::size_t index = slot.index;
    m_command.command({"SET", m_config.prefix + ":probe:" + slot.provider.id, m_replica, "NX", "PX",
                       std::to_string(slot.provider.probeLease.count())},
                      [this, index, generation](const redisReply* reply) {
                          Slot& s = m_slots[index];
                          s.claiming = false;
                          if (reply == nullptr || reply->type != REDIS_REPLY_STATUS) return; // held elsewhere
                          if (s.provider.breaker->grantFleetProbe(*generation)) {
                              s.grantedGeneration = *generation;
                              s.grantedAt = std::chrono::steady_clock::now();
                          }
                      });
}

// Each tick: a held lease is extended while its probe is in flight and given back when unused; a breaker that
// waits for a probe tries to take the lease (its holder may have died: the lease then expires).
void FleetWorker::keepProbe(Slot& slot) {
    CircuitBreaker& breaker = *slot.provider.breaker;
    if (slot.grantedGeneration == 0) return claimProbe(slot);
    if (!breaker.holdsFleetProbe(slot.grantedGeneration)) {
        slot.grantedGeneration = 0; // the breaker moved on (closed, re-opened, or a fleet verdict)
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (breaker.localView().probesInFlight > 0) {
        const std::size_t index = slot.index;
        evalScript(kRenewProbe, {m_config.prefix + ":probe:" + slot.provider.id},
                   {m_replica, std::to_string(slot.provider.probeLease.count())},
                   [this, index, now](const redisReply* reply) {
                       if (reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
                           m_slots[index].grantedAt = now;
                   });
    } else if (now - slot.grantedAt > slot.provider.probeLease - kLeaseMargin) {
        breaker.revokeFleetProbe();
        slot.grantedGeneration = 0;
    }
}

} // namespace fusebox
