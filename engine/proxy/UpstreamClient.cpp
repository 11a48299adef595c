#include "proxy/UpstreamClient.h"

#include "proxy/CurlMulti.h"
#include "proxy/UpstreamTransfer.h"

namespace fusebox {

UpstreamClient::UpstreamClient(boost::asio::io_context& io) : m_multi(CurlMulti::create(io)) {}

// Handlers still queued on the io_context hold only weak references, so they find nothing once this is gone;
// when destroyed from inside a callback, the multi lives on (held by that callback's caller) only until
// libcurl has returned and it can tear itself down.
UpstreamClient::~UpstreamClient() {
    m_multi->close();
}

std::shared_ptr<UpstreamCall> UpstreamClient::start(UpstreamRequest request, Callbacks callbacks) {
    auto transfer = std::make_shared<UpstreamTransfer>(m_multi, std::move(request), std::move(callbacks));
    transfer->begin();
    return transfer;
}

std::size_t UpstreamClient::inFlight() const {
    return m_multi->liveTransfers();
}

} // namespace fusebox
