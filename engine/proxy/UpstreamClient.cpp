#include "proxy/UpstreamClient.h"

#include "proxy/CurlMulti.h"
#include "proxy/PlainHttpCall.h"
#include "proxy/PlainHttpPool.h"
#include "proxy/UpstreamTransfer.h"

#include <cstdlib>

namespace fusebox {

namespace {

// The variables libcurl reads for an http:// URL. With any of them set, libcurl decides (no_proxy included).
bool proxyInEnvironment() {
    for (const char* name : {"http_proxy", "all_proxy", "ALL_PROXY"}) {
        const char* value = std::getenv(name);
        if (value && *value) return true;
    }
    return false;
}

} // namespace

UpstreamClient::UpstreamClient(boost::asio::io_context& io, PlainHttp plainHttp)
    : m_multi(CurlMulti::create(io)),
      m_plain(plainHttp == PlainHttp::Direct && !proxyInEnvironment() ? std::make_shared<PlainHttpPool>(io)
                                                                       : nullptr) {}

// Handlers still queued on the io_context hold only weak references, so they find nothing once this is gone;
// when destroyed from inside a callback, the multi lives on (held by that callback's caller) only until
// libcurl has returned and it can tear itself down.
UpstreamClient::~UpstreamClient() {
    if (m_plain) m_plain->close();
    m_multi->close();
}

std::shared_ptr<UpstreamCall> UpstreamClient::start(UpstreamRequest request, Callbacks callbacks) {
    if (m_plain) {
        if (const auto& url = m_plain->parsedUrl(request.url)) {
            auto call = std::make_shared<PlainHttpCall>(m_plain, *url, std::move(request), std::move(callbacks));
            call->begin();
            return call;
        }
    }
    auto transfer = std::make_shared<UpstreamTransfer>(m_multi, std::move(request), std::move(callbacks));
    transfer->begin();
    return transfer;
}

std::size_t UpstreamClient::inFlight() const {
    return m_multi->liveTransfers() + (m_plain ? m_plain->callsInFlight() : 0);
}

} // namespace fusebox
