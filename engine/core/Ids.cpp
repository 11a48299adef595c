#include "core/Ids.h"

#include <cstdio>
#include <random>

namespace fusebox {

std::string newRequestId() {
    thread_local std::mt19937_64 generator{std::random_device{}()};
    char buffer[33];
    std::snprintf(buffer, sizeof buffer, "%016llx%016llx", static_cast<unsigned long long>(generator()),
                  static_cast<unsigned long long>(generator()));
    return buffer;
}

} // namespace fusebox
