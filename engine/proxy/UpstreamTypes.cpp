#include "proxy/UpstreamTypes.h"

#include "proxy/UpstreamHeaders.h"

namespace fusebox {

std::optional<std::string_view> UpstreamHead::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (sameHeaderName(name, key)) return value; // (the keys are lower-case already)
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
