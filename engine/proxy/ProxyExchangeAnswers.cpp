// ProxyExchange, its answers that are not a stream: a whole answer judged and relayed, the 503 when no target
// can answer (Retry-After and every attempt), our own errors, and the headers every answer carries.
#include "proxy/ProxyExchange.h"

#include "breaker/RetryAfter.h"
#include "core/JsonMembers.h"
#include "core/Log.h"
#include "core/Redaction.h"
#include "core/SimdJsonDom.h"
#include "core/UntrustedJson.h"
#include "proxy/HttpAnswers.h"
#include "proxy/ProxyExchangeShared.h"

#include <algorithm>
#include <cmath>

namespace fusebox {

using nlohmann::json;
using exchange::clip;
using exchange::kMaxNameBytes;

namespace {

// A provider header longer than this is not passed on (Beast refuses values over 64 KiB, by throwing).
constexpr std::size_t kMaxPassedHeaderBytes = 8 * 1024;

// Upstream headers worth passing on to the client: its rate-limit state and request id help it behave.
bool passedThrough(std::string_view name) {
    return name.starts_with("x-ratelimit-") || name.starts_with("anthropic-ratelimit-") || name == "retry-after" ||
           name == "request-id" || name == "openai-processing-ms" || name == "x-request-id-upstream";
}

} // namespace

void ProxyExchange::answerBusy(const std::string& message) {
    Response response = errorResponse(m_dialect.kind(), 503, "fusebox_overloaded",
                                      "Fusebox cannot take this request now: " + message + ". Retry shortly.",
                                      std::nullopt, m_request.version());
    response.set(http::field::retry_after, "1");
    addFuseboxHeaders(response, "none");
    m_session->respond(std::move(response));
    finish();
}

void ProxyExchange::finishWhole(const UpstreamResult& result) {
    Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    Outcome outcome = classify(a.status, result.error);
    if (outcome == Outcome::Success) {
        // Relayed as it came, the answer is only validated and its usage read: no document of the rest is built,
        // and in the usual case (simdjson takes the text) not even the usage's. A translated one is parsed in full.
        const Dialect& dialect = dialectFor(provider.kind);
        if (!a.crossApi) {
            Usage usage;
            const auto object = readTopLevelObjectMember(
                a.body, "usage", [&](const SimdObjectView& member) { usage = dialect.usageFromMember(member, a.upstream); });
            if (object && *object && !m_stream) {
                a.usage = usage;
                relayWhole(Outcome::Success, "", std::nullopt);
                return;
            }
            // Not an object, asked for a stream, or refused by simdjson: said (or decided by nlohmann) below.
        }
        ParsedJson parsed;
        if (a.crossApi) {
            parsed = parseUntrusted(a.body);
        } else {
            JsonMembers members = readTopLevelMembers(a.body, {"usage"});
            parsed.error = std::move(members.error);
            parsed.value = std::move(members.value);
        }
        if (!parsed.ok() || !parsed.value.is_object()) {
            failOver(Outcome::BadResponse, "HTTP " + std::to_string(a.status) + " with a body that is not a JSON object" +
                                               (parsed.ok() ? std::string() : " (" + parsed.error + ")"));
            return;
        }
        if (m_stream) {
            failOver(Outcome::BadResponse, "asked for a stream, got a JSON answer");
            return;
        }
        a.usage = dialect.usageFromBody(parsed.value, a.upstream);
        if (a.crossApi) {
            std::string error;
            auto translated = translateAnswer(parsed.value, a.upstream, m_endpoint, error);
            if (!translated) {
                failOver(Outcome::BadResponse, clip(redacted(error, provider.apiKey)));
                return;
            }
            a.body = dumpJson(*translated);
        }
        relayWhole(Outcome::Success, "", std::nullopt);
        return;
    }
    std::optional<Millis> retryAfter;
    if (auto value = a.head.header("retry-after")) retryAfter = parseRetryAfter(*value, m_context.clock.wallNow());
    const std::string reason = upstreamFailureReason(result);
    if (provider.breaker.failureOutcomes.contains(outcome) || outcome == Outcome::RateLimited) {
        failOver(outcome, reason, retryAfter);
        return;
    }
    if (!result.ok()) {
        // A transport failure the config does not count as a failure: there is no answer to pass on.
        completeAttempt(outcome, reason, false, retryAfter);
        answerError(502, "upstream_error", "provider " + provider.id + ": " + reason);
        return;
    }
    // The provider judged the request itself (a 400, say): that answer is the client's to read, unchanged.
    relayWhole(outcome, reason, retryAfter);
}

void ProxyExchange::relayWhole(Outcome outcome, const std::string& reason, std::optional<Millis> retryAfter) {
    Attempt& a = *m_attempt;
    const int status = a.status;
    const UpstreamHead head = std::move(a.head);
    std::string body = std::move(a.body);
    if (a.crossApi && outcome != Outcome::Success) body = translatedErrorBody(status, body);
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    const SecretRedactor& redactor = *a.redactor;
    // The breaker hears the outcome before the client does, so whoever reads the answer sees its effect.
    completeAttempt(outcome, reason, true, retryAfter); // (ends `a`)
    answerWhole(status, head, std::move(body), provider, redactor);
    finish();
}

std::string ProxyExchange::translatedErrorBody(int status, const std::string& body) const {
    const ProviderConfig& provider = m_context.config.providers[m_attempt->providerIndex];
    const std::string message = dialectFor(provider.kind).upstreamErrorMessage(body).value_or(
        "provider " + provider.id + " answered HTTP " + std::to_string(status));
    const std::string type = status >= 400 && status < 500 ? "invalid_request_error" : "upstream_error";
    return dumpJson(m_dialect.errorBody(status, type, clip(redacted(message, provider.apiKey))));
}

void ProxyExchange::answerUnavailable() {
    const bool allRefused = !m_attempts.empty() && std::all_of(m_attempts.begin(), m_attempts.end(), [](const auto& a) {
        return a.outcome == Outcome::ShortCircuited;
    });
    // The soonest any target of the route may be tried again, from each breaker as it stands now (a failure of
    // this very request may just have opened one). A forced-open breaker has no end; it counts as its open_s.
    double soonest = 1e18;
    for (const auto& target : m_resolution.targets) {
        const auto breaker = m_context.breakers[target.providerIndex]->snapshot();
        double retry = breaker.retryAfterS.value_or(breaker.policy.openS);
        // A provider over its daily budget stays refused until 00:00 UTC, whatever its breaker says.
        const std::string& id = m_context.config.providers[target.providerIndex].id;
        for (const auto& a : m_attempts)
            if (a.provider == id && a.state == "over_budget" && a.retryAfterS) retry = std::max(retry, *a.retryAfterS);
        soonest = std::min(soonest, retry);
    }
    if (soonest >= 1e18) soonest = m_context.config.breaker.openS;
    // The header is whole seconds, at least 1, and capped so that SDKs keep retrying (the OpenAI SDK ignores a
    // Retry-After of 60 s or more). The body keeps the whole wait, rounded up to 0.1 s: never less than the
    // header says, so a client that reads both cannot be told to come back before the header's time.
    const long wholeSeconds = std::max(1L, static_cast<long>(std::ceil(soonest)));
    const long retryHeader = std::min(wholeSeconds, static_cast<long>(m_context.config.limits.maxRetryAfterS));
    const double retryBody = std::max(std::ceil(soonest * 10.0 - 1e-9) / 10.0, static_cast<double>(retryHeader));

    json attempts = json::array();
    std::string summary;
    for (const auto& a : m_attempts) {
        attempts.push_back({{"provider", a.provider}, {"model", a.model}, {"outcome", outcomeName(a.outcome)},
                            {"state", a.state}, {"reason", a.reason}});
        if (!summary.empty()) summary += "; ";
        summary += a.provider + " " + (a.outcome == Outcome::ShortCircuited ? "is " + a.state
                                                                            : std::string(outcomeName(a.outcome))) +
                   (a.reason.empty() ? "" : " (" + a.reason + ")");
    }
    const json fusebox = {{"route", m_resolution.route},
                          {"retry_after_s", retryBody},
                          {"attempts", std::move(attempts)}};
    const std::string type = allRefused ? "circuit_open" : "upstream_unavailable";
    const std::string message = "no provider of route " + m_resolution.route + " can answer now: " +
                                (summary.empty() ? "it has no targets" : summary) + ". Retry in " +
                                std::to_string(wholeSeconds) + " s.";
    json body = m_dialect.errorBody(503, type, message);
    if (m_dialect.kind() == ProviderKind::OpenAI) body["error"]["fusebox"] = fusebox;
    else body["fusebox"] = fusebox;

    Response response = jsonResponse(503, body, m_request.version());
    response.set(http::field::retry_after, std::to_string(retryHeader));
    if (allRefused) response.set("x-fusebox-breaker", "open");
    addFuseboxHeaders(response, "none");
    Log::info("no target could answer", {{"request_id", m_requestId}, {"route", m_resolution.route},
                                         {"type", type}, {"retry_after_s", std::to_string(wholeSeconds)}});
    m_session->respond(std::move(response));
    finish();
}

void ProxyExchange::answerWhole(int status, const UpstreamHead& head, std::string body,
                                const ProviderConfig& provider, const SecretRedactor& redactor) {
    // Framed here rather than as a Beast message: see FramedFields. The same fields, in the same order.
    FramedFields fields;
    fields.insert("Content-Type", headerValue(head.header("content-type").value_or("application/json")));
    fields.insert("Server", "fusebox");
    for (const auto& [name, value] : passedHeaders(head, provider))
        fields.insert(name, value);
    addFuseboxHeaders(fields, provider.id);
    redactor.redactInPlace(body);
    m_session->respond(m_request.version(), status, fields, std::move(body));
}

void ProxyExchange::answerError(int status, const std::string& type, const std::string& message,
                                const std::optional<std::string>& param) {
    Response response = errorResponse(m_dialect.kind(), status, type, message, param, m_request.version());
    addFuseboxHeaders(response, "none");
    m_session->respond(std::move(response));
    finish();
}

void ProxyExchange::passHeadersOn(http::fields& message, const UpstreamHead& head,
                                  const ProviderConfig& provider) const {
    for (const auto& [name, value] : passedHeaders(head, provider))
        message.set(name, value);
}

std::vector<std::pair<std::string_view, std::string>> ProxyExchange::passedHeaders(const UpstreamHead& head,
                                                                                  const ProviderConfig& provider) const {
    std::vector<std::pair<std::string_view, std::string>> passed;
    for (const auto& header : head.headers) {
        const std::string& name = header.first;
        const std::string& value = header.second;
        if (!passedThrough(name)) continue;
        if (value.size() > kMaxPassedHeaderBytes) {
            Log::throttled(LogLevel::Warn, "oversized provider header", std::chrono::seconds(10),
                           "provider header too large, not passed on",
                           {{"provider", provider.id}, {"header", headerValue(name, 64)},
                            {"bytes", std::to_string(value.size())}});
            continue;
        }
        // (The names are lower-case already: UpstreamHead.)
        std::erase_if(passed, [&name](const auto& earlier) { return earlier.first == name; });
        passed.emplace_back(name, headerValue(redacted(value, provider.apiKey), kMaxPassedHeaderBytes));
    }
    return passed;
}

template <class Fields> void ProxyExchange::addFuseboxHeadersTo(Fields& fields, const std::string& provider) const {
    // insert, not set: each answer gets these once, and none of them is a provider header passed on
    // (passedThrough), so there is nothing to replace; set would search the fields for each name first.
    fields.insert("x-fusebox-route", m_resolution.route.empty() ? "none" : headerValue(m_resolution.route, kMaxNameBytes));
    fields.insert("x-fusebox-provider", provider);
    fields.insert("x-fusebox-attempts", std::to_string(m_attempts.size() + (m_attempt ? 1 : 0)));
    fields.insert("x-request-id", m_requestId);
}

void ProxyExchange::addFuseboxHeaders(http::fields& message, const std::string& provider) const {
    addFuseboxHeadersTo(message, provider);
}

void ProxyExchange::addFuseboxHeaders(FramedFields& fields, const std::string& provider) const {
    addFuseboxHeadersTo(fields, provider);
}

} // namespace fusebox
