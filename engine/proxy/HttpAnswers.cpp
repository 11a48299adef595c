#include "proxy/HttpAnswers.h"

#include "core/UntrustedJson.h"

namespace fusebox {

std::string_view pathOf(std::string_view target) {
    const auto query = target.find('?');
    return query == std::string_view::npos ? target : target.substr(0, query);
}

ProviderKind familyOfPath(std::string_view target) {
    return target.starts_with("/v1/messages") ? ProviderKind::Anthropic : ProviderKind::OpenAI;
}

std::string headerValue(std::string_view text, std::size_t maxBytes) {
    std::string out = clipUtf8(text, maxBytes);
    for (char& c : out)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) c = '?';
    return out;
}

Response jsonResponse(int status, const nlohmann::json& body, unsigned version) {
    Response response{static_cast<http::status>(status), version};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::server, "fusebox");
    response.body() = dumpJson(body);
    response.prepare_payload();
    return response;
}

Response errorResponse(ProviderKind family, int status, const std::string& type, const std::string& message,
                       const std::optional<std::string>& param, unsigned version) {
    return jsonResponse(status, dialectFor(family).errorBody(status, type, message, param), version);
}

} // namespace fusebox
