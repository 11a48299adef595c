#include "proxy/UpstreamTypes.h"

#include <algorithm>
#include <cctype>

namespace fusebox {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

} // namespace

std::optional<std::string> UpstreamHead::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (equalsIgnoreCase(key, name)) return value;
    return std::nullopt;
}

std::string_view transportErrorName(TransportError error) {
    switch (error) {
    case TransportError::None:
        return "none";
    case TransportError::Timeout:
        return "timeout";
    case TransportError::Connect:
        return "connect_error";
    case TransportError::BadResponse:
        return "bad_response";
    case TransportError::Cancelled:
        return "cancelled";
    case TransportError::Local:
        return "local_error";
    }
    return "unknown";
}

} // namespace fusebox
