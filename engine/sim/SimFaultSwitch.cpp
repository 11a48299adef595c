#include "sim/SimFaultSwitch.h"

namespace fusebox::sim {

const char* toString(FaultKind kind) {
    switch (kind) {
    case FaultKind::None:
        return "none";
    case FaultKind::HttpError:
        return "http_error";
    case FaultKind::Hang:
        return "hang";
    case FaultKind::CutStream:
        return "cut_stream";
    case FaultKind::StreamError:
        return "stream_error";
    case FaultKind::Garbage:
        return "garbage";
    }
    return "unknown";
}

void FaultSwitch::set(Fault fault) {
    std::lock_guard lock(m_mutex);
    m_rng.seed(fault.seed);
    if (fault.inert() || fault.count == 0)
        m_fault.reset();
    else
        m_fault = std::move(fault);
}

void FaultSwitch::clear() {
    std::lock_guard lock(m_mutex);
    m_fault.reset();
}

std::optional<Fault> FaultSwitch::current() const {
    std::lock_guard lock(m_mutex);
    return m_fault;
}

std::optional<Fault> FaultSwitch::pick(std::string_view target) {
    std::lock_guard lock(m_mutex);
    if (!m_fault) return std::nullopt;
    if (!m_fault->path.empty() && target.substr(0, target.find('?')) != m_fault->path) return std::nullopt;
    if (m_fault->probability < 1.0 && draw() >= m_fault->probability) {
        if (m_fault->sparedLatency.count() <= 0) return std::nullopt;
        return Fault::slow(m_fault->sparedLatency);
    }
    Fault hit = *m_fault;
    if (m_fault->count > 0 && --m_fault->count == 0) m_fault.reset();
    return hit;
}

double FaultSwitch::draw() {
    // The top 53 bits as a fraction: std::uniform_real_distribution may differ between standard libraries.
    return static_cast<double>(m_rng() >> 11) * 0x1.0p-53;
}

} // namespace fusebox::sim
