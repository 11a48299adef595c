#include "proxy/CurlGlobal.h"

#include <curl/curl.h>

#include <mutex>

namespace fusebox {

namespace {

struct GlobalState {
    std::once_flag once;
    bool ok = false;
    std::string error;
};

GlobalState& state() {
    static GlobalState s;
    return s;
}

} // namespace

bool CurlGlobal::ensure() {
    GlobalState& s = state();
    std::call_once(s.once, [&s] {
        const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        s.ok = rc == CURLE_OK;
        if (!s.ok) s.error = std::string("curl_global_init failed: ") + curl_easy_strerror(rc);
    });
    return s.ok;
}

const std::string& CurlGlobal::initError() {
    ensure();
    return state().error;
}

std::string CurlGlobal::version() {
    ensure();
    return curl_version();
}

} // namespace fusebox
