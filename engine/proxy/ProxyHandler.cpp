#include "proxy/ProxyHandler.h"

#include "proxy/HttpAnswers.h"
#include "proxy/ModelCatalog.h"
#include "proxy/ProxyExchange.h"

namespace fusebox {

namespace {

std::optional<ApiEndpoint> proxiedEndpoint(std::string_view path) {
    if (path == "/v1/chat/completions") return ApiEndpoint::ChatCompletions;
    if (path == "/v1/embeddings") return ApiEndpoint::Embeddings;
    if (path == "/v1/messages") return ApiEndpoint::Messages;
    if (path == "/v1/responses") return ApiEndpoint::Responses;
    if (path == "/v1/completions") return ApiEndpoint::Completions;
    if (path == "/v1/messages/count_tokens") return ApiEndpoint::CountTokens;
    return std::nullopt;
}

} // namespace

void ProxyHandler::handle(const std::shared_ptr<ClientSession>& session, Request&& request) {
    const std::string_view path = pathOf(std::string_view(request.target().data(), request.target().size()));
    // HEAD is answered as GET would be; the session sends the status and headers only.
    const auto method = request.method() == http::verb::head ? http::verb::get : request.method();
    const ProviderKind family = familyOfPath(path);

    if (auto endpoint = proxiedEndpoint(path)) {
        if (method != http::verb::post) {
            Response r = errorResponse(family, 405, "invalid_request_error", std::string(path) + " takes POST",
                                       std::nullopt, request.version());
            r.set(http::field::allow, "POST");
            return session->respond(std::move(r));
        }
        // --demo's own synthetic agents stop with Fusebox: they are not agents a Quit would leave stranded.
        AgentActivity* activity = request.find("x-demo-agent") == request.end() ? m_context.activity : nullptr;
        if (activity == nullptr) {
            std::make_shared<ProxyExchange>(m_context, session, std::move(request), *endpoint)->start();
            return;
        }
        activity->requestStarted();
        // The exchange lives exactly as long as the request is being answered: its end is the request's end.
        std::shared_ptr<ProxyExchange> exchange(new ProxyExchange(m_context, session, std::move(request), *endpoint),
                                                [activity](ProxyExchange* done) {
                                                    delete done;
                                                    activity->requestFinished();
                                                });
        exchange->start();
        return;
    }
    if (path == "/" && method == http::verb::get) {
        // Agents probe the base URL before they start (Claude Code sends HEAD / every time).
        Response r{http::status::ok, request.version()};
        r.set(http::field::content_type, "text/plain");
        r.body() = "fusebox: a circuit-breaking proxy for LLM providers. See /v1/models and /healthz.\n";
        return session->respond(std::move(r));
    }
    if (path == "/healthz" && method == http::verb::get) {
        Response r{http::status::ok, request.version()};
        r.set(http::field::content_type, "text/plain");
        r.body() = "ok";
        return session->respond(std::move(r));
    }
    if (method == http::verb::get && (path == "/v1/models" || path.starts_with("/v1/models/"))) {
        const bool anthropic = request.find("anthropic-version") != request.end();
        const auto routes = m_context.routes.routes();
        const auto models = catalogModels(*routes);
        const std::string_view target(request.target().data(), request.target().size());
        if (path == "/v1/models") return session->respond(modelList(models, anthropic, target, request.version()));
        const std::string id = percentDecoded(path.substr(std::string_view("/v1/models/").size()));
        return session->respond(modelEntry(models, anthropic, id, request.version()));
    }
    if (m_admin && (path.starts_with("/admin/") || path == "/metrics")) return m_admin->handle(session, std::move(request));
    session->respond(errorResponse(family, 404, "not_found",
                                   "unknown path " + std::string(path) +
                                       " (Fusebox serves /v1/chat/completions, /v1/responses, /v1/completions, /v1/embeddings, "
                                       "/v1/messages, /v1/messages/count_tokens, /v1/models, /healthz, "
                                       "/admin/v1/... and /metrics)",
                                   std::nullopt, request.version()));
}

Response ProxyHandler::protocolError(int status, const std::string& target, const std::string& message) {
    const char* type = status == 413 ? "request_too_large" : status == 431 ? "request_header_fields_too_large"
                                                                           : "invalid_request_error";
    return errorResponse(familyOfPath(pathOf(target)), status, type, message);
}

} // namespace fusebox
