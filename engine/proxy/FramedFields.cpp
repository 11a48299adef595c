#include "proxy/FramedFields.h"

#include <cstring>

namespace fusebox {

void FramedFields::insert(std::string_view name, std::string_view value) {
    if (m_text.empty()) m_text.reserve(256); // an answer's dozen fields in one allocation
    // One size change and plain copies (four appends cost twice as much).
    const std::size_t at = m_text.size();
    m_text.resize(at + name.size() + value.size() + 4);
    char* out = m_text.data() + at;
    std::memcpy(out, name.data(), name.size());
    out += name.size();
    std::memcpy(out, ": ", 2);
    out += 2;
    std::memcpy(out, value.data(), value.size());
    out += value.size();
    std::memcpy(out, "\r\n", 2);
}

} // namespace fusebox
