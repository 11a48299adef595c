#pragma once
// How a libcurl failure becomes a TransportError, i.e. an outcome class of the breaker (CONTRACT §2):
//   no connection could be made (DNS, refused, unreachable, TLS handshake or verification, bad URL) ->
//   Connect; a connection was made but what came back was not a whole HTTP response (cut, reset, nothing,
//   garbage, bad chunked framing, HTTP/2 stream error) -> BadResponse;  connect deadline -> Timeout;  aborted
//   -> Cancelled.
// The first_byte, idle and total deadlines are the upstream client's own timers, not curl's, so they never
// arrive here.
#include "breaker/Outcome.h"
#include "core/Clock.h"

#include <string>
#include <string_view>

namespace fusebox {

struct CurlFailure {
    TransportError error = TransportError::None;
    std::string message;
};

// `curlCode` is a CURLcode other than CURLE_OK; `detail` is the transfer's CURLOPT_ERRORBUFFER (may be
// empty); `requestSent` tells codes that mean either (an unsupported protocol: a bad URL, or an HTTP/0.9
// reply) apart.
CurlFailure describeCurlFailure(int curlCode, std::string_view detail, bool requestSent,
                                Millis connectTimeout);

} // namespace fusebox
