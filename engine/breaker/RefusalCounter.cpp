#include "breaker/RefusalCounter.h"

#include <algorithm>

namespace fusebox {

RefusalCounter::RefusalCounter(int seconds)
    : m_size(std::max(1, seconds)), m_slots(std::make_unique<std::atomic<uint64_t>[]>(m_size)) {
    for (int i = 0; i < m_size; ++i) m_slots[i].store(0, std::memory_order_relaxed);
}

void RefusalCounter::record(int64_t second) {
    auto& slot = m_slots[static_cast<std::size_t>(second % m_size)];
    const uint64_t stamp = static_cast<uint64_t>(second) << kCountBits;
    uint64_t seen = slot.load(std::memory_order_relaxed);
    for (;;) {
        uint64_t next;
        if ((seen & ~kCountMask) == stamp)
            next = (seen & kCountMask) == kCountMask ? seen : seen + 1; // saturate rather than wrap
        else if ((seen >> kCountBits) > static_cast<uint64_t>(second))
            break; // a newer second owns the slot already: this late refusal only counts in the total
        else
            next = stamp | 1;
        if (slot.compare_exchange_weak(seen, next, std::memory_order_relaxed)) break;
    }
    m_total.fetch_add(1, std::memory_order_relaxed);
}

void RefusalCounter::clear() {
    // Slot value 0 is "second 0, no count": no steady second the ring is asked about is 0.
    for (int i = 0; i < m_size; ++i) m_slots[i].store(0, std::memory_order_relaxed);
}

uint32_t RefusalCounter::countAt(int64_t second) const {
    const uint64_t seen = m_slots[static_cast<std::size_t>(second % m_size)].load(std::memory_order_relaxed);
    if ((seen >> kCountBits) != static_cast<uint64_t>(second)) return 0;
    return static_cast<uint32_t>(seen & kCountMask);
}

} // namespace fusebox
