#pragma once
// Dispatches each request on the proxy port by method and path: the agent-facing API (CONTRACT §3) here; the
// admin API and metrics (§4) are handed to the admin handler when one is set.
#include "proxy/ClientSession.h"
#include "proxy/ProxyContext.h"

namespace fusebox {

class ProxyHandler final : public RequestHandler {
public:
    explicit ProxyHandler(ProxyContext& context) : m_context(context) {}
    // Requests under /admin/ and /metrics go here when set.
    void setAdminHandler(RequestHandler* admin) { m_admin = admin; }

    void handle(const std::shared_ptr<ClientSession>& session, Request&& request) override;
    Response protocolError(int status, const std::string& target, const std::string& message) override;

private:
    ProxyContext& m_context;
    RequestHandler* m_admin = nullptr;
};

} // namespace fusebox
