#include "core/Ids.h"

#include <cstdint>
#include <random>

namespace fusebox {

std::string newRequestId() {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    // 32 lower-case hex digits from two 64-bit draws, written by hand: snprintf's format parsing cost more than
    // the rest of minting the id, once per request.
    std::string id(32, '0');
    for (int half = 0; half < 2; ++half) {
        uint64_t bits = generator();
        for (int i = 15; i >= 0; --i) {
            id[static_cast<std::size_t>(half * 16 + i)] = "0123456789abcdef"[bits & 0xF];
            bits >>= 4;
        }
    }
    return id;
}

} // namespace fusebox
