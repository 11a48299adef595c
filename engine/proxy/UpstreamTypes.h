#pragma once
// The values that cross the upstream client's border: what to send, what came back, how it ended.
#include "breaker/Outcome.h"
#include "config/Config.h"
#include "core/Clock.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fusebox {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct UpstreamRequest {
    std::string method = "POST";
    std::string url;
    // Sent as given, in order, except the ones the client owns: Host (from the url), Content-Length,
    // Transfer-Encoding, Connection, Keep-Alive, Proxy-Connection, Upgrade, TE and Expect are dropped, and
    // any header whose name or value holds CR, LF or NUL is dropped (it would let a value inject headers).
    // libcurl adds no Accept, Content-Type or User-Agent of its own.
    HeaderList headers;
    std::string
        body; // sent for every method but GET and HEAD (POST with an empty body sends Content-Length: 0)
    ProviderTimeouts timeouts;
    // An event stream: timeouts.firstByte bounds the wait for its first byte. A whole answer is bounded by
    // timeouts.total alone, since a long one (minutes of reasoning) sends no byte until it is done.
    bool stream = false;
};

// The final (non-1xx) response's status line and headers.
struct UpstreamHead {
    int status = 0;
    HeaderList headers; // names lower-cased, values trimmed, in arrival order
    // The first header of that name (any case), if present (a view into headers).
    std::optional<std::string_view> header(std::string_view name) const;
};

struct UpstreamResult {
    TransportError error = TransportError::None; // an HTTP error status is not a transport error
    std::string
        message;    // empty on success; else what happened, e.g. "first_byte timeout: ... within 60000 ms"
    int status = 0; // the final response's status, 0 when none arrived
    Millis timeToFirstByte{0}; // start -> first response byte (0 when none arrived)
    Millis duration{0};        // start -> end
    bool ok() const { return error == TransportError::None; }
};

struct UpstreamCallbacks {
    std::function<void(const UpstreamHead&)>
        onHead; // once, before any onData; not at all when no response came
    std::function<void(std::string_view)>
        onData; // each body chunk as it arrives (decoded from chunked framing)
    std::function<void(const UpstreamResult&)> onDone; // exactly once, last (but see ~UpstreamClient)
};

std::string_view transportErrorName(TransportError error);

} // namespace fusebox
