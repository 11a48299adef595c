#include "providers/ApiTranslation.h"

#include "providers/translation/ChatCompletionsApi.h"
#include "providers/translation/MessagesApi.h"
#include "providers/translation/ResponsesApi.h"

namespace fusebox {

using nlohmann::json;
using namespace translation;

bool translatable(ApiEndpoint endpoint) {
    return endpoint == ApiEndpoint::ChatCompletions || endpoint == ApiEndpoint::Messages ||
           endpoint == ApiEndpoint::Responses;
}

ApiEndpoint upstreamEndpoint(ApiEndpoint endpoint, const ProviderConfig& provider) {
    if (!translatable(endpoint)) return endpoint;
    if (provider.kind == ProviderKind::Anthropic) return ApiEndpoint::Messages;
    if (endpoint == ApiEndpoint::Responses && provider.servesResponses) return ApiEndpoint::Responses;
    return ApiEndpoint::ChatCompletions;
}

RequestTranslation translateRequest(const json& body, ApiEndpoint from, ApiEndpoint to, const std::string& model) {
    RequestTranslation out;
    Problems problems;
    std::optional<Request> pivot;
    switch (from) {
    case ApiEndpoint::ChatCompletions: pivot = decodeChatRequest(body, problems); break;
    case ApiEndpoint::Messages: pivot = decodeMessagesRequest(body, problems); break;
    case ApiEndpoint::Responses: pivot = decodeResponsesRequest(body, problems); break;
    default: problems.refuse(std::string(endpointPath(from)) + " has no counterpart in the other API"); break;
    }
    if (pivot) {
        if (to == ApiEndpoint::ChatCompletions) out.body = encodeChatRequest(*pivot, model, problems);
        else if (to == ApiEndpoint::Messages) out.body = encodeMessagesRequest(*pivot, model, problems);
        else problems.refuse(std::string("no translation goes to ") + endpointPath(to));
    }
    if (problems.reader.failed()) {
        out.body.reset();
        out.invalid = problems.reader.error();
    } else if (!problems.whyNot.empty() || !out.body) {
        out.body.reset();
        out.whyNot = problems.whyNot.empty() ? std::string("the request cannot cross") : problems.whyNot;
    }
    return out;
}

std::optional<json> translateAnswer(const json& answer, ApiEndpoint providerEndpoint, ApiEndpoint clientEndpoint,
                                    std::string& error) {
    JsonReader reader;
    std::optional<Answer> pivot = providerEndpoint == ApiEndpoint::Messages ? decodeMessagesAnswer(answer, reader)
                                                                            : decodeChatAnswer(answer, reader);
    if (!pivot) {
        error = "answer field " + (reader.failed() ? reader.error() : std::string("unreadable"));
        return std::nullopt;
    }
    switch (clientEndpoint) {
    case ApiEndpoint::Messages: return encodeMessagesAnswer(*pivot, error);
    case ApiEndpoint::Responses: return encodeResponsesAnswer(*pivot);
    default: return encodeChatAnswer(*pivot);
    }
}

StreamTranslator::StreamTranslator(ApiEndpoint providerEndpoint, ApiEndpoint clientEndpoint, bool clientAskedUsage) {
    if (providerEndpoint == ApiEndpoint::Messages) m_decoder = std::make_unique<MessagesStreamDecoder>();
    else m_decoder = std::make_unique<ChatStreamDecoder>();
    switch (clientEndpoint) {
    case ApiEndpoint::Messages: m_encoder = std::make_unique<MessagesStreamEncoder>(); break;
    case ApiEndpoint::Responses: m_encoder = std::make_unique<ResponsesStreamEncoder>(); break;
    default: m_encoder = std::make_unique<ChatStreamEncoder>(clientAskedUsage); break;
    }
}

StreamTranslator::StreamTranslator(StreamTranslator&&) noexcept = default;
StreamTranslator& StreamTranslator::operator=(StreamTranslator&&) noexcept = default;
StreamTranslator::~StreamTranslator() = default;

std::optional<std::string> StreamTranslator::translate(const SseEvent& event, const StreamEventInfo& info,
                                                       const Usage& usage) {
    if (!m_error.empty()) return std::nullopt;
    if (event.commentOnly) return event.raw; // keep-alive comments mean the same to every client
    if (info.error) return m_encoder->error(info);
    JsonReader reader;
    std::vector<StreamPiece> pieces;
    m_decoder->decode(event, reader, pieces);
    if (reader.failed()) {
        m_error = reader.error();
        return std::nullopt;
    }
    const Tokens tokens = m_decoder->tokens(usage);
    std::string out;
    for (const StreamPiece& piece : pieces) out += m_encoder->encode(piece, tokens);
    if (!m_encoder->failure().empty()) {
        m_error = m_encoder->failure();
        return std::nullopt;
    }
    return out;
}

} // namespace fusebox
