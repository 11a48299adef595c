#include "proxy/ModelCatalog.h"

#include "proxy/HttpAnswers.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

namespace fusebox {

using nlohmann::json;

namespace {

// Fusebox knows no creation date of a route or a provider's model: the epoch, as OpenAI's "created": 0 says.
constexpr const char* kUnknownCreation = "1970-01-01T00:00:00Z";
constexpr int kAnthropicDefaultLimit = 20; // as Anthropic's own list
constexpr int kAnthropicMaxLimit = 1000;

// The value of `name` in the query of `target`, percent-decoded, or nullopt.
std::optional<std::string> queryParam(std::string_view target, std::string_view name) {
    const std::size_t query = target.find('?');
    if (query == std::string_view::npos) return std::nullopt;
    std::string_view rest = target.substr(query + 1);
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const std::size_t eq = pair.find('=');
        if (pair.substr(0, eq) == name) return percentDecoded(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

json openAiModel(const CatalogModel& model) {
    return {{"id", model.id}, {"object", "model"}, {"created", 0}, {"owned_by", model.owner}};
}

json anthropicModel(const CatalogModel& model) {
    return {{"type", "model"}, {"id", model.id}, {"display_name", model.id}, {"created_at", kUnknownCreation}};
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

std::string percentDecoded(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int high = hexValue(text[i + 1]);
            const int low = hexValue(text[i + 2]);
            if (high >= 0 && low >= 0) {
                out += static_cast<char>(high * 16 + low);
                i += 2;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}

std::vector<CatalogModel> catalogModels(const std::vector<RouteConfig>& routes) {
    std::vector<CatalogModel> models;
    std::set<std::string> seen;
    auto add = [&](const std::string& id, const std::string& owner) {
        if (seen.insert(id).second) models.push_back({id, owner});
    };
    for (const auto& route : routes) add(route.name, "fusebox");
    for (const auto& route : routes)
        for (const auto& target : route.targets)
            if (!target.model.empty()) add(target.provider + "/" + target.model, target.provider);
    return models;
}

Response modelList(const std::vector<CatalogModel>& models, bool anthropic, std::string_view target,
                   unsigned version) {
    if (!anthropic) {
        json data = json::array();
        for (const auto& model : models) data.push_back(openAiModel(model));
        return jsonResponse(200, {{"object", "list"}, {"data", std::move(data)}}, version);
    }
    // Anthropic pages its list: limit (1..1000, default 20), after_id or before_id.
    int limit = kAnthropicDefaultLimit;
    if (auto text = queryParam(target, "limit")) {
        int value = 0;
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > kAnthropicMaxLimit)
            return errorResponse(ProviderKind::Anthropic, 400, "invalid_request_error",
                                 "limit: must be an integer from 1 to " + std::to_string(kAnthropicMaxLimit), "limit",
                                 version);
        limit = value;
    }
    std::size_t first = 0;
    std::size_t last = models.size(); // one past
    auto position = [&](const std::string& id) {
        return static_cast<std::size_t>(
            std::find_if(models.begin(), models.end(), [&](const CatalogModel& m) { return m.id == id; }) -
            models.begin());
    };
    bool backwards = false;
    if (auto after = queryParam(target, "after_id")) first = std::min(models.size(), position(*after) + 1);
    else if (auto before = queryParam(target, "before_id")) {
        last = position(*before);
        backwards = true;
    }
    std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(limit), last - std::min(first, last));
    if (backwards) first = last - count; // the page just before before_id
    json data = json::array();
    for (std::size_t i = first; i < first + count; ++i) data.push_back(anthropicModel(models[i]));
    const bool more = backwards ? first > 0 : first + count < last;
    json body = {{"data", data}, {"has_more", more}, {"first_id", nullptr}, {"last_id", nullptr}};
    if (count > 0) {
        body["first_id"] = models[first].id;
        body["last_id"] = models[first + count - 1].id;
    }
    return jsonResponse(200, body, version);
}

Response modelEntry(const std::vector<CatalogModel>& models, bool anthropic, const std::string& id, unsigned version) {
    for (const auto& model : models)
        if (model.id == id) return jsonResponse(200, anthropic ? anthropicModel(model) : openAiModel(model), version);
    const std::string shown = headerValue(id, 256);
    if (anthropic)
        return errorResponse(ProviderKind::Anthropic, 404, "not_found_error", "model: " + shown, std::nullopt, version);
    json body = dialectFor(ProviderKind::OpenAI)
                    .errorBody(404, "model_not_found", "The model '" + shown + "' does not exist", "model");
    return jsonResponse(404, body, version);
}

} // namespace fusebox
