#pragma once
// libcurl's process-wide state. curl_global_init() is not thread-safe (libcurl 7.88) and must have run before
// any thread creates a handle, so every user of curl goes through ensure(), which runs it exactly once. It is
// never torn down: the process exits first, and tearing it down under a live handle is undefined.
#include <string>

namespace fusebox {

class CurlGlobal {
  public:
    // Initialises libcurl once (thread-safe); returns false when that failed (the reason is in initError()).
    // The engine calls it before starting its I/O threads; UpstreamClient calls it too, so tests need
    // nothing.
    static bool ensure();
    static const std::string& initError();
    // "libcurl/7.88.1 OpenSSL/3.0.x ... nghttp2/1.52.0", for the startup log.
    static std::string version();
};

} // namespace fusebox
