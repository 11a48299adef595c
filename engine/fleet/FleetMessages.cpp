#include "fleet/FleetMessages.h"

#include "core/UntrustedJson.h"

#include <algorithm>

namespace fusebox::fleet {

namespace {

using nlohmann::json;

std::optional<json> parseObject(std::string_view text) {
    ParsedJson parsed = parseUntrusted(text);
    if (!parsed.ok() || !parsed.value.is_object()) return std::nullopt;
    return std::move(parsed.value);
}

// cjson writes every number as a double ("%.14g"); whole values come back as integers or floats alike.
int64_t wholeNumber(const json& object, std::string_view key) {
    const json* v = JsonReader::member(object, key);
    if (v == nullptr || !v->is_number()) return 0;
    const double d = v->get<double>();
    return d > 9e15 || d < -9e15 ? 0 : static_cast<int64_t>(d);
}

double realNumber(const json& object, std::string_view key) {
    const json* v = JsonReader::member(object, key);
    return v != nullptr && v->is_number() ? v->get<double>() : 0.0;
}

std::optional<VerdictMessage> verdictFrom(const json& v) {
    VerdictMessage m;
    m.provider = stringOr(v, "provider", "");
    auto state = breakerStateFromName(stringOr(v, "state", ""));
    if (m.provider.empty() || !state || *state == BreakerState::HalfOpen) return std::nullopt;
    m.state = *state;
    m.untilMs = wholeNumber(v, "until_ms");
    m.remainingMs = std::max<int64_t>(0, wholeNumber(v, "remaining_ms"));
    m.generation = static_cast<uint64_t>(std::max<int64_t>(0, wholeNumber(v, "gen")));
    m.opens = static_cast<int>(std::clamp<int64_t>(wholeNumber(v, "opens"), 0, 1000));
    m.origin = clipUtf8(stringOr(v, "origin", ""), 200);
    m.reason = clipUtf8(stringOr(v, "reason", ""), 500);
    m.action = stringOr(v, "action", "");
    if (m.action != "force_open" && m.action != "force_close" && m.action != "reset") m.action.clear();
    m.atMs = wholeNumber(v, "at_ms");
    m.instance = stringOr(v, "instance", "");
    if (m.generation == 0) return std::nullopt;
    return m;
}

std::optional<RouteMessage> routeFrom(const json& v) {
    RouteMessage m;
    m.route = stringOr(v, "route", "");
    m.generation = static_cast<uint64_t>(std::max<int64_t>(0, wholeNumber(v, "gen")));
    m.origin = clipUtf8(stringOr(v, "origin", ""), 200);
    m.atMs = wholeNumber(v, "at_ms");
    m.instance = stringOr(v, "instance", "");
    const json* targets = JsonReader::member(v, "targets");
    if (m.route.empty() || m.generation == 0 || targets == nullptr || !targets->is_array() || targets->empty())
        return std::nullopt;
    for (const auto& t : *targets) {
        RouteTarget target{stringOr(t, "provider", ""), stringOr(t, "model", "")};
        if (target.provider.empty()) return std::nullopt;
        m.targets.push_back(std::move(target));
    }
    return m;
}

} // namespace

std::optional<VerdictMessage> parseVerdict(std::string_view text) {
    auto v = parseObject(text);
    return v ? verdictFrom(*v) : std::nullopt;
}

std::optional<RouteMessage> parseRoute(std::string_view text) {
    auto v = parseObject(text);
    return v ? routeFrom(*v) : std::nullopt;
}

std::optional<SyncAnswer> parseSyncAnswer(std::string_view text) {
    auto v = parseObject(text);
    if (!v) return std::nullopt;
    SyncAnswer a;
    a.nowMs = wholeNumber(*v, "now_ms");
    a.epoch = stringOr(*v, "epoch", "");
    if (const json* replicas = JsonReader::member(*v, "replicas"); replicas && replicas->is_object()) {
        for (const auto& [id, r] : replicas->items()) {
            FleetReplica replica;
            replica.id = id;
            if (auto info = parseObject(stringOr(r, "info", ""))) {
                replica.listen = stringOr(*info, "listen", "");
                replica.version = stringOr(*info, "version", "");
            }
            replica.lastSeenS = static_cast<double>(wholeNumber(r, "age_ms")) / 1000.0;
            a.replicas.push_back(std::move(replica));
        }
    }
    if (const json* providers = JsonReader::member(*v, "providers"); providers && providers->is_object()) {
        for (const auto& [id, p] : providers->items()) {
            ProviderSync s;
            s.calls = static_cast<uint32_t>(std::clamp<int64_t>(wholeNumber(p, "calls"), 0, UINT32_MAX));
            s.failures = static_cast<uint32_t>(std::clamp<int64_t>(wholeNumber(p, "failures"), 0, UINT32_MAX));
            s.slow = static_cast<uint32_t>(std::clamp<int64_t>(wholeNumber(p, "slow"), 0, UINT32_MAX));
            s.spendUsd = std::max(0.0, realNumber(p, "spend"));
            s.remainingMs = std::max<int64_t>(0, wholeNumber(p, "remaining_ms"));
            s.probeHolder = stringOr(p, "probe", "");
            if (std::string text = stringOr(p, "verdict", ""); !text.empty()) s.verdict = parseVerdict(text);
            a.providers.emplace(id, std::move(s));
        }
    }
    if (const json* routes = JsonReader::member(*v, "routes"); routes && routes->is_object())
        for (const auto& [name, text] : routes->items())
            if (text.is_string())
                if (auto route = parseRoute(text.get_ref<const std::string&>())) a.routes.push_back(std::move(*route));
    return a;
}

ChannelMessage parseChannelMessage(std::string_view text) {
    ChannelMessage m;
    auto v = parseObject(text);
    if (!v) return m;
    const std::string kind = stringOr(*v, "kind", "");
    const std::string body = stringOr(*v, "body", "");
    if (kind == "verdict") m.verdict = parseVerdict(body);
    else if (kind == "route") m.route = parseRoute(body);
    return m;
}

std::string targetsJson(const std::vector<RouteTarget>& targets) {
    json out = json::array();
    for (const auto& t : targets) {
        json target = {{"provider", t.provider}};
        if (!t.model.empty()) target["model"] = t.model;
        out.push_back(std::move(target));
    }
    return dumpJson(out);
}

std::string replicaInfoJson(const std::string& listen, const std::string& version) {
    return dumpJson(json{{"listen", listen}, {"version", version}});
}

} // namespace fusebox::fleet
