#pragma once
// What the fleet looks like from this replica, for GET /admin/v1/state, /metrics and the console.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fusebox {

enum class RedisLink { Off, Connected, Degraded };
const char* redisLinkName(RedisLink link); // "off", "connected", "degraded"

struct FleetReplica {
    std::string id;
    std::string listen;  // the replica's proxy URL
    std::string version;
    double lastSeenS = 0; // seconds since its last heartbeat, by Redis's clock
};

struct FleetStatus {
    // Upper bounds of fusebox_fleet_sync_delay_seconds, seconds (the target is 0.2 s, the limit 1 s).
    static constexpr std::array<double, 10> kDelayBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5};

    bool enabled = false;
    RedisLink redis = RedisLink::Off;
    std::string replica;
    std::vector<FleetReplica> replicas; // seen in the last 30 s, this one included (while connected)
    std::array<uint64_t, kDelayBuckets.size()> delayCounts{}; // not cumulative
    uint64_t delayCount = 0;
    double delaySumS = 0;
};

} // namespace fusebox
