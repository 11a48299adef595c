#pragma once
// The fault currently set on a SimProvider, and the decision, per arriving request, whether it applies.
// Set and read from any thread (a test thread flips it while the provider's I/O threads consult it).
#include "sim/SimFault.h"

#include <mutex>
#include <optional>
#include <random>
#include <string_view>

namespace fusebox::sim {

class FaultSwitch {
  public:
    void set(Fault fault);
    void clear();
    // The fault as set, its `count` being the hits left; nullopt when none is set.
    std::optional<Fault> current() const;
    // The fault to apply to a request that has just arrived at `target`, or nullopt. A counted fault clears
    // itself after its last hit; requests the probability spares do not use up the count.
    std::optional<Fault> pick(std::string_view target);

  private:
    double draw(); // in [0, 1), the same sequence on every platform for a given seed

    mutable std::mutex m_mutex;
    std::optional<Fault> m_fault;
    std::mt19937_64 m_rng;
};

} // namespace fusebox::sim
