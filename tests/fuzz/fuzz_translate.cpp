// Answers and stream events from a provider, in every direction.
//
// - The input as a provider's JSON answer, parsed as the proxy parses it (parseUntrusted): when it is an object
//   (the proxy fails over on anything else before it translates), both dialects' usageFromBody, and
//   translateAnswer for every pair of provider API (Chat Completions, Messages) and client API (those two and
//   Responses): an object, dump()ed, or nothing with an error naming the field.
//   Both dialects' upstreamErrorMessage on the raw bytes.
// - The input as a provider's SSE byte stream: SseParser splits it; each event goes through both dialects'
//   inspect (each with its own running Usage), and through a StreamTranslator for every pair of provider and
//   client API as above, with clientAskedUsage true and false, fed with the inspection of the provider's family
//   (as the proxy pairs them). A translator that refuses an event must say why (error()); the proxy ends the attempt
//   there, or at an error event, and so does this. What a translator writes is parsed again as the client's SSE and inspected with
//   the client's own dialect: it must not look like an error unless the provider's event was one.
#include "core/UntrustedJson.h"
#include "providers/ApiTranslation.h"
#include "providers/Dialect.h"
#include "providers/SseParser.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using fusebox::ApiEndpoint;
using fusebox::ProviderKind;
using nlohmann::json;

void check(bool condition) {
    if (!condition) __builtin_trap();
}

constexpr ApiEndpoint kProviderEndpoints[] = {ApiEndpoint::ChatCompletions, ApiEndpoint::Messages};
constexpr ApiEndpoint kClientEndpoints[] = {ApiEndpoint::ChatCompletions, ApiEndpoint::Messages, ApiEndpoint::Responses};
constexpr ProviderKind kKinds[] = {ProviderKind::OpenAI, ProviderKind::Anthropic};

std::size_t slot(ProviderKind kind) {
    return kind == ProviderKind::OpenAI ? 0 : 1;
}

void answers(std::string_view input) {
    for (ProviderKind kind : kKinds) (void)fusebox::dialectFor(kind).upstreamErrorMessage(input);
    const fusebox::ParsedJson parsed = fusebox::parseUntrusted(input);
    if (!parsed.ok() || !parsed.value.is_object()) return;
    const json& answer = parsed.value;
    for (ProviderKind kind : kKinds) (void)fusebox::dialectFor(kind).usageFromBody(answer);
    for (ApiEndpoint provider : kProviderEndpoints)
        for (ApiEndpoint client : kClientEndpoints) {
            if (provider == client) continue;
            std::string error;
            const std::optional<json> translated = fusebox::translateAnswer(answer, provider, client, error);
            if (!translated) {
                check(!error.empty());
                continue;
            }
            check(translated->is_object());
            (void)translated->dump();
        }
}

// One client's side of a translated stream.
struct Client {
    ApiEndpoint provider;
    ApiEndpoint endpoint;
    fusebox::StreamTranslator translator;
    fusebox::SseParser parser;
    fusebox::Usage usage;
    bool ended = false; // an error event, or one the translator refused: the proxy ends the attempt there
};

void stream(std::string_view input) {
    fusebox::Usage usage[2];
    std::vector<std::unique_ptr<Client>> clients;
    for (ApiEndpoint provider : kProviderEndpoints)
        for (ApiEndpoint endpoint : kClientEndpoints)
            for (bool askedUsage : {false, true})
                if (provider != endpoint)
                    clients.push_back(std::unique_ptr<Client>(new Client{
                        provider, endpoint, fusebox::StreamTranslator(provider, endpoint, askedUsage), {}, {}, false}));

    fusebox::SseParser parser;
    parser.feed(input, [&](fusebox::SseEvent&& event) {
        fusebox::StreamEventInfo info[2];
        for (ProviderKind kind : kKinds)
            info[slot(kind)] = fusebox::dialectFor(kind).inspect(event, usage[slot(kind)]);
        for (auto& client : clients) {
            if (client->ended) continue;
            const std::size_t k = slot(fusebox::apiFamily(client->provider));
            const std::optional<std::string> bytes = client->translator.translate(event, info[k], usage[k]);
            if (!bytes) {
                check(!client->translator.error().empty());
                client->ended = true;
                continue;
            }
            client->ended = info[k].error;
            const fusebox::Dialect& own = fusebox::dialectFor(fusebox::apiFamily(client->endpoint));
            client->parser.feed(*bytes, [&](fusebox::SseEvent&& out) {
                const fusebox::StreamEventInfo seen = own.inspect(out, client->usage);
                if (seen.error) check(info[k].error);
            });
        }
    });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    answers(input);
    stream(input);
    return 0;
}
