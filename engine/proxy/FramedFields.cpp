#include "proxy/FramedFields.h"

namespace fusebox {

void FramedFields::insert(std::string_view name, std::string_view value) {
    if (m_text.empty()) m_text.reserve(256); // an answer's dozen fields in one allocation
    m_text.append(name).append(": ").append(value).append("\r\n");
}

} // namespace fusebox
