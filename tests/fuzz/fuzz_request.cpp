// Routing and request parsing: what the proxy does with a client's request before it calls a provider.
//
// - RouteTable::resolve on the input's first line (any bytes), against a fixed config with both API families.
// - The input parsed twice: json::parse(data, nullptr, false), and parseUntrusted (the proxy's parser, with its
//   depth limit). They must agree: what parseUntrusted accepts json::parse accepts, as the same value; what
//   json::parse accepts within the depth limit parseUntrusted accepts. And the proxy's pass-through read
//   (readTopLevelMembers: simdjson, with nlohmann deciding what simdjson refuses) agrees with both: valid for the
//   same texts, and the same named members, equal to the full parse's.
// - The body (when within the depth limit, as the proxy refuses deeper ones before anything reads them):
//   * translateRequest(body, endpoint, "some-model") for every ApiEndpoint, dump()ed;
//   * when it is an object with a non-empty string "model" (what the proxy accepts), the proxy's own steps for
//     every endpoint: resolve the model, then for each target targetApi (as is, translated, skipped, or a 400),
//     let the target's dialect prepare the body (prepareBody), and dump() what would go upstream.
// A translation gives exactly one of: a body (an object with the model asked for), a reason it cannot cross
// (whyNot), or what is malformed (invalid).
#include "config/ConfigLoader.h"
#include "core/JsonMembers.h"
#include "core/UntrustedJson.h"
#include "providers/ApiTranslation.h"
#include "providers/Dialect.h"
#include "proxy/TargetApi.h"
#include "routing/RouteTable.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

using fusebox::ApiEndpoint;
using nlohmann::json;

void check(bool condition) {
    if (!condition) __builtin_trap();
}

constexpr ApiEndpoint kEndpoints[] = {ApiEndpoint::ChatCompletions, ApiEndpoint::Embeddings, ApiEndpoint::Messages,
                                      ApiEndpoint::Responses};

// Both families, a route that crosses them, routes that stay in one family, a chain with a provider twice, a
// provider without a key, and a target model with a '/' in it.
constexpr std::string_view kConfig = R"({
  "providers": [
    { "id": "openai", "kind": "openai", "base_url": "https://api.openai.com/v1", "api_key": "sk-fuzz" },
    { "id": "anthropic", "kind": "anthropic", "base_url": "https://api.anthropic.com", "api_key": "sk-ant-fuzz" },
    { "id": "azure", "kind": "openai", "base_url": "https://example.openai.azure.com/openai/v1" }
  ],
  "routes": [
    { "name": "default", "targets": [ { "provider": "openai" }, { "provider": "anthropic", "model": "claude-sonnet-4-5" } ] },
    { "name": "fast", "targets": [ { "provider": "openai", "model": "gpt-4o-mini" }, { "provider": "azure" } ] },
    { "name": "claude", "targets": [ { "provider": "anthropic", "model": "claude-3-5-haiku-latest" },
                                     { "provider": "openai", "model": "gpt-4o" }, { "provider": "anthropic" } ] },
    { "name": "llama", "targets": [ { "provider": "azure", "model": "meta-llama/Llama-3.3-70B-Instruct" } ] }
  ]
})";

const fusebox::Config& fixedConfig() {
    static const fusebox::Config config = [] {
        fusebox::LoadOptions options;
        options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
        auto result = fusebox::parseConfig(kConfig, "fuzz-request.json", options);
        check(result.ok());
        return *result.config;
    }();
    return config;
}

const fusebox::RouteTable& fixedRoutes() {
    static const fusebox::RouteTable table(fixedConfig().providers, fixedConfig().routes);
    return table;
}

fusebox::Resolution resolve(std::string_view model) {
    fusebox::Resolution resolution = fixedRoutes().resolve(model);
    // Every route above has its defaults and "default" exists, so every model resolves to providers we have.
    check(resolution.found);
    check(!resolution.targets.empty());
    for (const auto& target : resolution.targets) check(target.providerIndex < fixedConfig().providers.size());
    return resolution;
}

void checkTranslation(const fusebox::RequestTranslation& out, const std::string& model) {
    const int outcomes = int(out.body.has_value()) + int(!out.whyNot.empty()) + int(!out.invalid.empty());
    check(outcomes == 1);
    if (!out.body) return;
    check(out.body->is_object());
    auto it = out.body->find("model");
    check(it != out.body->end() && it->is_string() && it->get_ref<const std::string&>() == model);
    (void)out.body->dump();
}

// The proxy's steps for one request on one client endpoint (ProxyExchange: parseRequest, tryTargets,
// crossApiBody, upstreamRequest), through the public engine API.
void asTheProxyWould(const json& body, ApiEndpoint endpoint) {
    bool stream = false;
    if (auto it = body.find("stream"); it != body.end() && endpoint != ApiEndpoint::Embeddings) {
        if (!it->is_boolean() && !it->is_null()) return; // answered 400
        stream = it->is_boolean() && it->get<bool>();
    }
    const fusebox::Resolution resolution = resolve(body["model"].get_ref<const std::string&>());
    for (const auto& target : resolution.targets) {
        const fusebox::ProviderConfig& provider = fixedConfig().providers[target.providerIndex];
        const fusebox::Dialect& dialect = fusebox::dialectFor(provider.kind);
        // The proxy's own decision: as is, translated, skipped with a reason, or a 400.
        fusebox::TargetApi api = fusebox::targetApi(body, endpoint, target, provider);
        check(api.usable() || !api.skipReason.empty() != !api.invalid.empty());
        if (!api.usable()) continue;
        json upstream;
        if (api.crossBody) {
            upstream = std::move(*api.crossBody);
            check(upstream.is_object() && upstream.value("model", std::string()) == target.model);
        } else {
            upstream = body;
            upstream["model"] = target.model;
        }
        (void)dialect.prepareBody(upstream, api.upstream, stream);
        (void)dialect.upstreamUrl(provider, api.upstream);
        (void)upstream.dump();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)resolve(input.substr(0, input.find('\n')));

    const fusebox::ParsedJson untrusted = fusebox::parseUntrusted(input);
    const fusebox::JsonMembers members = fusebox::readTopLevelMembers(input, {"model", "stream", "stream_options", "usage"});
    check(members.ok() == untrusted.ok());
    if (fusebox::nestedDeeperThan(input)) {
        check(!untrusted.ok());
        return 0;
    }
    const json body = json::parse(input, nullptr, false);
    check(untrusted.ok() == !body.is_discarded());
    if (body.is_discarded()) return 0;
    check(untrusted.value == body);
    check(members.object == body.is_object());
    if (body.is_object())
        for (const char* name : {"model", "stream", "stream_options", "usage"}) {
            const auto found = body.find(name);
            check(found == body.end() ? !members.value.contains(name) : members.value.value(name, json()) == *found);
        }
    for (ApiEndpoint endpoint : kEndpoints)
        for (const auto& provider : fixedConfig().providers)
            checkTranslation(fusebox::translateRequest(body, endpoint, fusebox::upstreamEndpoint(endpoint, provider),
                                                       "some-model"),
                             "some-model");
    if (!body.is_object()) return 0;
    auto model = body.find("model");
    if (model == body.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) return 0;
    for (ApiEndpoint endpoint : kEndpoints) asTheProxyWould(body, endpoint);
    return 0;
}
