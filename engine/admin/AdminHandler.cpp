#include "admin/AdminHandler.h"

#include "Engine.h"
#include "admin/AdminAuth.h"
#include "admin/AdminJson.h"
#include "admin/MetricsRegistry.h"
#include "core/Ids.h"
#include "core/Log.h"
#include "proxy/HttpAnswers.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>

namespace fusebox {

using nlohmann::json;

namespace {

std::vector<std::string> split(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 1;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto end = slash == std::string_view::npos ? path.size() : slash;
        parts.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

// "%2F" and friends in a provider id or route name.
std::string percentDecode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() + 0 &&
            std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// Matches "/admin/v1/providers/{}/force-open" style patterns; {} captures one segment.
bool match(std::string_view pattern, const std::vector<std::string>& parts,
           std::vector<std::string>& params) {
    const auto want = split(pattern);
    if (want.size() != parts.size()) return false;
    std::vector<std::string> captured;
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (want[i] == "{}") {
            if (parts[i].empty()) return false;
            captured.push_back(percentDecode(parts[i]));
        } else if (want[i] != parts[i]) {
            return false;
        }
    }
    params = std::move(captured);
    return true;
}

std::string header(const Request& request, std::string_view name) {
    auto it = request.find(name);
    return it == request.end() ? std::string() : std::string(it->value());
}

// An optional JSON object body; nullopt (and `problem` set) when it is there but not a JSON object.
std::optional<json> objectBody(const Request& request, std::string& problem) {
    if (request.body().empty()) return json::object();
    json body = json::parse(request.body(), nullptr, false);
    if (body.is_discarded()) {
        problem = "the body is not valid JSON";
        return std::nullopt;
    }
    if (!body.is_object()) {
        problem = "the body must be a JSON object";
        return std::nullopt;
    }
    return body;
}

// The value of `name` in the target's query string, if given.
std::optional<std::string> queryValue(std::string_view target, std::string_view name) {
    const auto query = target.find('?');
    if (query == std::string_view::npos) return std::nullopt;
    std::string_view rest = target.substr(query + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) return percentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

// The latest unix time a query may name: 2^33 s is the year 2242, and keeps a conversion to the system clock's
// nanoseconds (which span only ±292 years around 1970) far from overflowing.
constexpr double kMaxUnixSeconds = 8'589'934'592.0;

// A unix time query parameter: `fallback` when absent; nullopt (and `problem` set, naming the parameter) when it
// is not a plain decimal number of seconds from 0 to kMaxUnixSeconds (no nan, inf, hex, sign or spaces).
std::optional<WallTime> unixParam(std::string_view target, std::string_view name, WallTime fallback,
                                  std::string& problem) {
    const auto value = queryValue(target, name);
    if (!value) return fallback;
    double seconds = 0;
    const char* end = value->data() + value->size();
    const auto [ptr, ec] = std::from_chars(value->data(), end, seconds);
    if (value->empty() || ec != std::errc{} || ptr != end || !std::isfinite(seconds) || seconds < 0 ||
        seconds > kMaxUnixSeconds) {
        problem = std::string(name) + " must be a unix time in seconds, from 0 to 8589934592 (got \"" + *value + "\")";
        return std::nullopt;
    }
    return WallTime{std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(seconds))};
}

} // namespace

AdminHandler::AdminHandler(Engine& engine, MetricsRegistry& metrics)
    : m_engine(engine), m_metrics(metrics), m_events(engine.events()) {}

Response AdminHandler::answerJson(Call& call, int status, const nlohmann::json& body) {
    Response r = jsonResponse(status, body, call.request.version());
    r.set("x-request-id", call.requestId);
    return r;
}

Response AdminHandler::error(Call& call, int status, const std::string& type, const std::string& message) {
    return answerJson(call, status, {{"error", {{"type", type}, {"message", message}}}});
}

void AdminHandler::handle(const std::shared_ptr<ClientSession>& session, Request&& request) {
    const std::string_view target(request.target().data(), request.target().size());
    const std::string path(pathOf(target));
    std::string requestId = header(request, "x-request-id");
    if (requestId.empty() || requestId.size() > 128) requestId = newRequestId();
    Call call{session, request, {}, std::move(requestId)};

    const std::string method(request.method_string());
    const auto access = checkAdminAccess(m_engine.config().adminToken, header(request, "authorization"),
                                         session->peerIsLoopback());
    if (access.status != 200) {
        Log::warn("admin call refused", {{"request_id", call.requestId},
                                         {"method", method},
                                         {"path", path},
                                         {"status", std::to_string(access.status)}});
        Response r =
            error(call, access.status, access.status == 401 ? "unauthorized" : "forbidden", access.message);
        if (access.status == 401) r.set(http::field::www_authenticate, "Bearer");
        return session->respond(std::move(r));
    }

    using Answer = Response (AdminHandler::*)(Call&);
    struct Endpoint {
        http::verb method;
        std::string_view pattern;
        Answer answer;
    };
    // One line per endpoint.
    static const Endpoint kEndpoints[] = {
        {http::verb::get, "/admin/v1/spend", &AdminHandler::spend},
        {http::verb::get, "/admin/v1/attempts.csv", &AdminHandler::attemptsCsv},
        {http::verb::get, "/admin/v1/state", &AdminHandler::state},
        {http::verb::get, "/metrics", &AdminHandler::metrics},
        {http::verb::post, "/admin/v1/providers/{}/force-open", &AdminHandler::providerCommand},
        {http::verb::post, "/admin/v1/providers/{}/force-close", &AdminHandler::providerCommand},
        {http::verb::post, "/admin/v1/providers/{}/reset", &AdminHandler::providerCommand},
        {http::verb::put, "/admin/v1/routes/{}", &AdminHandler::putRoute},
    };

    const auto parts = split(path);
    // HEAD is answered as GET would be (the session sends no body); the event stream's head is its own.
    const http::verb verb = request.method() == http::verb::head ? http::verb::get : request.method();
    bool pathKnown = false;
    if (match("/admin/v1/events", parts, call.params)) {
        if (request.method() == http::verb::head) {
            Response r{http::status::ok, request.version()};
            r.set(http::field::content_type, "text/event-stream");
            r.set(http::field::cache_control, "no-cache");
            return session->respond(std::move(r));
        }
        if (request.method() == http::verb::get) return events(call);
        pathKnown = true;
    }
    for (const auto& endpoint : kEndpoints) {
        if (!match(endpoint.pattern, parts, call.params)) continue;
        pathKnown = true;
        if (endpoint.method != verb) continue;
        return session->respond((this->*endpoint.answer)(call));
    }
    if (pathKnown)
        return session->respond(error(call, 405, "method_not_allowed", method + " is not served on " + path));
    session->respond(error(call, 404, "not_found", "unknown admin path " + path));
}

Response AdminHandler::protocolError(int status, const std::string&, const std::string& message) {
    return jsonResponse(status, {{"error", {{"type", "invalid_request"}, {"message", message}}}});
}

Response AdminHandler::spend(Call& call) {
    const std::string_view target(call.request.target().data(), call.request.target().size());
    const std::string bucketName = queryValue(target, "bucket").value_or("hour");
    SpendBucket bucket;
    std::chrono::seconds span;
    if (bucketName == "minute") bucket = SpendBucket::Minute, span = std::chrono::hours(1);
    else if (bucketName == "hour") bucket = SpendBucket::Hour, span = std::chrono::hours(24);
    else if (bucketName == "day") bucket = SpendBucket::Day, span = std::chrono::hours(24 * 30);
    else return error(call, 400, "invalid_request", "bucket must be minute, hour or day (got \"" + bucketName + "\")");
    // Without `since`: the last hour by minute, the last day by hour, the last 30 days by day.
    std::string problem;
    const auto since = unixParam(target, "since", m_engine.clock().wallNow() - span, problem);
    if (!since) return error(call, 400, "invalid_request", problem);
    const SpendReport report = m_engine.spendReport(bucket, *since);
    json buckets = json::array();
    for (const auto& b : report.buckets)
        buckets.push_back({{"t", b.t}, {"provider", b.provider}, {"requests", b.requests},
                           {"input_tokens", b.inputTokens}, {"output_tokens", b.outputTokens}, {"usd", b.usd},
                           {"wasted_usd", b.wastedUsd}, {"unpriced", b.unpriced}});
    return answerJson(call, 200,
                      {{"buckets", std::move(buckets)},
                       {"saved", {{"short_circuited", report.saved.shortCircuited},
                                  {"est_usd", report.saved.estUsd},
                                  {"est_seconds", report.saved.estSeconds}}}});
}

Response AdminHandler::attemptsCsv(Call& call) {
    const std::string_view target(call.request.target().data(), call.request.target().size());
    std::string problem;
    const WallTime now = m_engine.clock().wallNow();
    const auto since = unixParam(target, "since", now - std::chrono::hours(24), problem);
    const auto until = since ? unixParam(target, "until", now + std::chrono::seconds(1), problem) : std::nullopt;
    if (!since || !until) return error(call, 400, "invalid_request", problem);
    Response r{http::status::ok, call.request.version()};
    r.set(http::field::content_type, "text/csv; charset=utf-8");
    r.set(http::field::content_disposition, "attachment; filename=\"attempts.csv\"");
    r.set("x-request-id", call.requestId);
    r.body() = m_engine.attemptsCsv(*since, *until);
    return r;
}

Response AdminHandler::state(Call& call) {
    return answerJson(call, 200, stateJson(m_engine.snapshot()));
}

Response AdminHandler::metrics(Call& call) {
    Response r{http::status::ok, call.request.version()};
    r.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    r.set("x-request-id", call.requestId);
    r.body() = m_metrics.render(m_engine.snapshot());
    return r;
}

Response AdminHandler::providerCommand(Call& call) {
    std::string problem;
    const auto body = objectBody(call.request, problem);
    if (!body) return error(call, 400, "invalid_request", problem);
    std::string reason;
    if (body->contains("reason")) {
        if (!(*body)["reason"].is_string())
            return error(call, 400, "invalid_request", "\"reason\" must be a string");
        reason = (*body)["reason"].get<std::string>();
    }
    const std::string& provider = call.params.at(0);
    const std::string path(
        pathOf(std::string_view(call.request.target().data(), call.request.target().size())));
    const std::string action = path.substr(path.rfind('/') + 1);
    CommandResult result = action == "force-open"    ? m_engine.forceOpen(provider, reason)
                           : action == "force-close" ? m_engine.forceClose(provider, reason)
                                                     : m_engine.reset(provider, reason);
    Log::info("admin command", {{"request_id", call.requestId},
                                {"action", action},
                                {"provider", provider},
                                {"status", std::to_string(result.httpStatus)}});
    if (!result.ok || !result.provider)
        return error(call, result.httpStatus, result.httpStatus == 404 ? "not_found" : "invalid_request",
                     result.error);
    return answerJson(call, 200, providerJson(*result.provider));
}

Response AdminHandler::putRoute(Call& call) {
    std::string problem;
    const auto body = objectBody(call.request, problem);
    if (!body) return error(call, 400, "invalid_request", problem);
    if (call.request.body().empty() || !body->contains("targets") || !(*body)["targets"].is_array())
        return error(call, 400, "invalid_request",
                     "the body must be {\"targets\":[{\"provider\":\"...\",\"model\":\"...\"}, ...]}");
    for (const auto& [key, value] : body->items())
        if (key != "targets" && key != "reason")
            return error(call, 400, "invalid_request", "unknown key \"" + key + "\" (targets, reason)");
    std::vector<RouteTarget> targets;
    const auto& list = (*body)["targets"];
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& t = list[i];
        const std::string where = "targets[" + std::to_string(i) + "]";
        if (!t.is_object() || !t.contains("provider") || !t["provider"].is_string())
            return error(call, 400, "invalid_request",
                         where + " must be an object with a string \"provider\"");
        RouteTarget target{t["provider"].get<std::string>(), {}};
        for (const auto& [key, value] : t.items()) {
            if (key == "provider") continue;
            if (key != "model")
                return error(call, 400, "invalid_request", where + ": unknown key \"" + key + "\"");
            if (value.is_null()) continue;
            if (!value.is_string())
                return error(call, 400, "invalid_request", where + ".model must be a string");
            target.model = value.get<std::string>();
        }
        targets.push_back(std::move(target));
    }
    std::string reason;
    if (body->contains("reason") && (*body)["reason"].is_string())
        reason = (*body)["reason"].get<std::string>();
    const std::string& route = call.params.at(0);
    CommandResult result = m_engine.setRoute(route, targets, reason);
    Log::info(
        "admin route change",
        {{"request_id", call.requestId}, {"route", route}, {"status", std::to_string(result.httpStatus)}});
    if (!result.ok)
        return error(call, result.httpStatus, result.httpStatus == 404 ? "not_found" : "invalid_request",
                     result.error);
    const auto snapshot = m_engine.snapshot();
    nlohmann::json answer = {{"name", route}};
    for (const auto& r : snapshot.routes)
        if (r.name == route) answer = routeJson(r);
    if (!result.warning.empty()) answer["warning"] = result.warning;
    return answerJson(call, 200, answer);
}

void AdminHandler::events(Call& call) {
    http::response<http::empty_body> head{http::status::ok, call.request.version()};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.set("x-request-id", call.requestId);
    Log::info("admin event stream opened", {{"request_id", call.requestId}});
    if (!m_events.open(call.session, std::move(head)))
        call.session->respond(error(call, 503, "unavailable", "shutting down"));
}

} // namespace fusebox
