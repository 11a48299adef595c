#pragma once
// GET /v1/models and GET /v1/models/{id} (CONTRACT §3): every route name and every PROVIDER/MODEL the routes
// name, in OpenAI's shape, or in Anthropic's when the request carries `anthropic-version` (Claude Code and the
// Anthropic SDKs always send it; the OpenAI SDKs never do).
#include "config/Config.h"
#include "proxy/ClientSession.h"

#include <string>
#include <string_view>
#include <vector>

namespace fusebox {

struct CatalogModel {
    std::string id;
    std::string owner; // "fusebox" for a route, else the provider id
};

// The models in listing order: routes first, then PROVIDER/MODEL pairs; each id once.
std::vector<CatalogModel> catalogModels(const std::vector<RouteConfig>& routes);

// The list. `target` is the request target (Anthropic's list honours limit, after_id and before_id).
Response modelList(const std::vector<CatalogModel>& models, bool anthropic, std::string_view target,
                   unsigned version);
// One model; 404 in the API's own shape when no model has that id. `id` is the path after /v1/models/,
// percent-decoded (an id may contain '/', sent as is or as %2F).
Response modelEntry(const std::vector<CatalogModel>& models, bool anthropic, const std::string& id, unsigned version);

// A path segment with its %XX escapes decoded (an invalid escape stays as it is).
std::string percentDecoded(std::string_view text);

} // namespace fusebox
