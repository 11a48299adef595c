#include "proxy/ProxyExchange.h"

#include "breaker/RetryAfter.h"
#include "core/Ids.h"
#include "core/Log.h"
#include "proxy/HttpAnswers.h"
#include "proxy/UpstreamClient.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cmath>

namespace fusebox {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxWholeBody = 64 * 1024 * 1024; // a non-streamed answer larger than this is not an LLM's
constexpr std::size_t kMaxErrorBody = 1024 * 1024;
constexpr std::size_t kMaxReasonChars = 300;

// Upstream headers worth passing on to the client: its rate-limit state and request id help it behave.
bool passedThrough(std::string_view name) {
    return name.starts_with("x-ratelimit-") || name.starts_with("anthropic-ratelimit-") || name == "retry-after" ||
           name == "request-id" || name == "openai-processing-ms" || name == "x-request-id-upstream";
}

// A provider's error text may echo what we sent it; make sure our key is never part of a reason.
std::string redact(std::string text, const std::string& secret) {
    if (secret.size() < 4) return text;
    for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
        text.replace(at, secret.size(), "[redacted]");
    return text;
}

std::string clip(std::string text) {
    if (text.size() > kMaxReasonChars) text = text.substr(0, kMaxReasonChars) + "...";
    return text;
}

std::optional<std::string> requestHeader(const Request& request, std::string_view name) {
    auto it = request.find(boost::beast::string_view(name.data(), name.size()));
    if (it == request.end()) return std::nullopt;
    return std::string(it->value());
}

bool usableRequestId(const std::string& id) {
    return !id.empty() && id.size() <= 128 &&
           std::all_of(id.begin(), id.end(), [](char c) { return c > 32 && c < 127; });
}

} // namespace

ProxyExchange::ProxyExchange(ProxyContext& context, std::shared_ptr<ClientSession> session, Request&& request,
                             ApiEndpoint endpoint)
    : m_context(context), m_session(std::move(session)), m_request(std::move(request)), m_endpoint(endpoint),
      m_dialect(dialectFor(apiFamily(endpoint))), m_waitTimer(m_session->executor()) {}

ProxyExchange::~ProxyExchange() = default;

void ProxyExchange::start() {
    m_started = m_context.clock.now();
    auto clientId = requestHeader(m_request, "x-request-id");
    m_requestId = clientId && usableRequestId(*clientId) ? *clientId : newRequestId();
    auto self = shared_from_this();
    m_session->setGoneHandler([self] { self->onClientGone(); });
    if (!parseRequest()) return;
    m_resolution = m_context.routes.resolve(m_clientModel);
    if (!m_resolution.found) {
        answerError(404, "model_not_found",
                    "no route or provider serves the model \"" + m_clientModel +
                        "\", and there is no route named \"default\" to send it to");
        return;
    }
    tryTargets();
}

bool ProxyExchange::parseRequest() {
    m_body = json::parse(m_request.body(), nullptr, false);
    if (m_body.is_discarded() || !m_body.is_object()) {
        answerError(400, "invalid_request_error", "the request body is not a JSON object");
        return false;
    }
    auto model = m_body.find("model");
    if (model == m_body.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) {
        answerError(400, "invalid_request_error", "missing required parameter: 'model' (a non-empty string)",
                    "model");
        return false;
    }
    m_clientModel = model->get<std::string>();
    if (auto stream = m_body.find("stream"); stream != m_body.end() && m_endpoint != ApiEndpoint::Embeddings) {
        if (!stream->is_boolean() && !stream->is_null()) {
            answerError(400, "invalid_request_error", "'stream' must be true or false", "stream");
            return false;
        }
        m_stream = stream->is_boolean() && stream->get<bool>();
    }
    return true;
}

void ProxyExchange::tryTargets() {
    while (m_next < m_resolution.targets.size()) {
        const ResolvedTarget target = m_resolution.targets[m_next++];
        const ProviderConfig& provider = m_context.config.providers[target.providerIndex];
        CircuitBreaker& breaker = *m_context.breakers[target.providerIndex];
        std::optional<json> crossBody;
        if (provider.kind != apiFamily(m_endpoint)) {
            std::string whyNot;
            crossBody = crossApiBody(target, provider, whyNot);
            if (!crossBody) { // skipped before its breaker is asked: no permit is taken
                recordRefusal(target, Outcome::ClientError, std::string(breakerStateName(breaker.state())),
                              "provider " + provider.id + " speaks the " + providerKindName(provider.kind) +
                                  " API: " + whyNot,
                              std::nullopt);
                continue;
            }
        }
        if (m_context.budgetGate) {
            if (auto refusal = m_context.budgetGate(target.providerIndex)) {
                recordRefusal(target, Outcome::ShortCircuited, "over_budget", refusal->reason, refusal->retryAfterS);
                continue;
            }
        }
        Admission admission = breaker.tryAcquire();
        if (!admission) {
            const double retry = std::chrono::duration<double>(admission.refusal.retryAfter).count();
            recordRefusal(target, Outcome::ShortCircuited, std::string(breakerStateName(admission.refusal.state)),
                          breaker.reason(), retry);
            continue;
        }
        if (!provider.hasKey()) {
            // No network call, but the breaker hears of it like any other failed attempt.
            m_attempt.emplace();
            m_attempt->providerIndex = target.providerIndex;
            m_attempt->model = target.model;
            m_attempt->permit = std::move(admission.permit);
            m_attempt->started = m_context.clock.now();
            const std::string hint = provider.apiKeyVariables.empty()
                                         ? "configure its api_key"
                                         : "set " + provider.apiKeyVariables.front();
            completeAttempt(Outcome::AuthError, "provider " + provider.id + " has no key: " + hint, false);
            continue;
        }
        attempt(target, std::move(admission.permit), std::move(crossBody));
        return;
    }

    // Every target refused or failed. Wait for the soonest recovery if the route allows and it is near enough.
    const bool allRefused = !m_attempts.empty() && std::all_of(m_attempts.begin(), m_attempts.end(), [](const auto& a) {
        return a.outcome == Outcome::ShortCircuited;
    });
    if (allRefused && m_resolution.waitForRecoveryMs > 0 && !m_clientGone) {
        double soonest = 1e18;
        for (const auto& a : m_attempts)
            if (a.retryAfterS) soonest = std::min(soonest, *a.retryAfterS);
        const auto waitUntil = m_context.clock.now() + std::chrono::duration_cast<Nanos>(
                                                           std::chrono::duration<double>(soonest));
        if (waitUntil <= m_started + Millis{m_resolution.waitForRecoveryMs}) {
            m_waitTimer.expires_after(std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(soonest)) +
                                      Millis{1});
            m_waitTimer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
                if (ec || self->m_clientGone || self->m_finished) return;
                self->m_next = 0;
                self->m_attempts.clear();
                self->tryTargets();
            });
            return;
        }
    }
    answerUnavailable();
}

std::optional<json> ProxyExchange::crossApiBody(const ResolvedTarget& target, const ProviderConfig& provider,
                                                std::string& whyNot) const {
    // translateRequest refuses what cannot cross at all (embeddings). A chat that could needs a model for the
    // other side: the client's means nothing to it.
    if (!target.modelChosen && translatable(m_endpoint)) {
        whyNot = "crossing APIs needs a model for it: set the route target's \"model\" (or ask for " + provider.id +
                 "/MODEL)";
        return std::nullopt;
    }
    return translateRequest(m_body, m_endpoint, target.model, whyNot);
}

UpstreamRequest ProxyExchange::upstreamRequest(const ProviderConfig& provider, const std::string& model,
                                               bool& clientAskedUsage, std::optional<json> crossBody) {
    const Dialect& dialect = dialectFor(provider.kind);
    const ApiEndpoint endpoint = upstreamEndpoint(m_endpoint, provider.kind);
    UpstreamRequest request;
    request.method = "POST";
    request.url = dialect.upstreamUrl(provider, endpoint);
    request.timeouts = provider.timeouts;
    if (crossBody) {
        dialect.prepareBody(*crossBody, endpoint, m_stream);
        // Whether the client itself asked for a usage chunk (OpenAI's stream_options); the translator decides.
        const auto options = m_body.find("stream_options");
        clientAskedUsage = options != m_body.end() && options->is_object() && options->value("include_usage", false);
        request.body = crossBody->dump(-1, ' ', false, json::error_handler_t::replace);
    } else if (!m_stream && model == m_clientModel) {
        // Nothing to change: the client's bytes go as they came, which spares a serialisation per request.
        request.body = m_request.body();
        clientAskedUsage = false;
    } else {
        json body = m_body;
        body["model"] = model;
        clientAskedUsage = dialect.prepareBody(body, m_endpoint, m_stream);
        request.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("Accept", m_stream ? "text/event-stream" : "application/json");
    request.headers.emplace_back("User-Agent", std::string("fusebox/") + FUSEBOX_VERSION);
    // The client's own credentials are never forwarded: the dialect adds the provider's key in its own header.
    dialect.providerHeaders(provider, [this](std::string_view name) { return requestHeader(m_request, name); },
                            request.headers);
    return request;
}

void ProxyExchange::attempt(const ResolvedTarget& target, Permit permit, std::optional<json> crossBody) {
    const ProviderConfig& provider = m_context.config.providers[target.providerIndex];
    m_attempt.emplace();
    Attempt& a = *m_attempt;
    a.serial = ++m_attemptSerial;
    a.providerIndex = target.providerIndex;
    a.model = target.model;
    a.permit = std::move(permit);
    a.started = m_context.clock.now();
    a.crossApi = crossBody.has_value();
    UpstreamRequest request = upstreamRequest(provider, target.model, a.clientAskedUsage, std::move(crossBody));
    if (a.crossApi && m_stream) a.translator.emplace(m_endpoint, a.clientAskedUsage);

    // Callbacks of an attempt we already gave up on (failed over, cancelled) must not touch the next one.
    auto self = shared_from_this();
    const uint64_t serial = a.serial;
    UpstreamCallbacks callbacks;
    callbacks.onHead = [self, serial](const UpstreamHead& head) {
        if (self->isCurrent(serial)) self->onHead(head);
    };
    callbacks.onData = [self, serial](std::string_view chunk) {
        if (self->isCurrent(serial)) self->onData(chunk);
    };
    callbacks.onDone = [self, serial](const UpstreamResult& result) {
        if (self->isCurrent(serial)) self->onDone(result);
    };
    a.call = m_session->upstream().start(std::move(request), std::move(callbacks));
}

void ProxyExchange::onHead(const UpstreamHead& head) {
    Attempt& a = *m_attempt;
    a.timeToFirstByte = std::chrono::duration_cast<Millis>(m_context.clock.now() - a.started);
    a.status = head.status;
    a.head = head;
    const auto type = head.header("content-type").value_or("");
    a.eventStream = m_stream && head.status >= 200 && head.status < 300 &&
                    type.find("text/event-stream") != std::string::npos;
}

void ProxyExchange::onData(std::string_view chunk) {
    Attempt& a = *m_attempt;
    if (!a.eventStream) {
        const std::size_t cap = a.status >= 200 && a.status < 300 ? kMaxWholeBody : kMaxErrorBody;
        if (a.body.size() + chunk.size() > cap) {
            if (a.status >= 200 && a.status < 300) {
                a.failed = true;
                a.call->cancel();
                failOver(Outcome::BadResponse, "answer larger than " + std::to_string(cap) + " bytes");
            }
            return; // an oversized error body: keep its start, which has the message
        }
        a.body.append(chunk);
        return;
    }
    // Events are collected first: handling one may end this attempt, and with it the parser being fed.
    std::vector<SseEvent> events;
    a.sse.feed(chunk, [&events](SseEvent&& event) { events.push_back(std::move(event)); });
    const uint64_t serial = a.serial;
    for (auto& event : events) {
        if (!isCurrent(serial)) return;
        onEvent(std::move(event));
    }
    if (isCurrent(serial) && a.sse.overflowed()) {
        a.failed = true;
        a.call->cancel();
        if (a.committed) {
            completeAttempt(Outcome::BadResponse, "stream event larger than 8 MiB", false);
            m_session->endStream(m_dialect.streamErrorEvent("the provider sent an event larger than 8 MiB"));
            finish();
        } else {
            failOver(Outcome::BadResponse, "stream event larger than 8 MiB");
        }
    }
}

void ProxyExchange::onEvent(SseEvent&& event) {
    Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    const StreamEventInfo info = dialectFor(provider.kind).inspect(event, a.usage);
    if (info.terminal) a.sawTerminal = true;
    // What the client gets of this event: the event itself, less OpenAI's usage chunk when the client did not
    // ask for it; or, from a provider of the other API, its translation (often nothing).
    std::string bytes;
    if (a.translator) bytes = a.translator->translate(event, info, a.usage);
    else if (!(info.usageOnly && !a.clientAskedUsage)) bytes = std::move(event.raw);
    if (!a.committed) {
        if (info.error) {
            a.failed = true;
            a.call->cancel();
            failOver(info.errorOutcome,
                     "error event before the first content: " + clip(redact(info.errorMessage, provider.apiKey)));
            return;
        }
        a.held += bytes;
        if (info.content) commit();
        return;
    }
    relay(bytes);
    if (info.error && !a.failed) {
        // The provider's own error event reached the client; the stream is over for it whatever follows.
        a.failed = true;
        a.call->cancel();
        completeAttempt(info.errorOutcome,
                        "error event after the stream committed: " + clip(redact(info.errorMessage, provider.apiKey)),
                        false);
        m_session->endStream();
        finish();
    }
}

void ProxyExchange::commit() {
    Attempt& a = *m_attempt;
    a.committed = true;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    http::response<http::empty_body> head{http::status::ok, m_request.version()};
    head.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(http::field::cache_control, "no-cache");
    head.set(http::field::server, "fusebox");
    for (const auto& [name, value] : a.head.headers)
        if (passedThrough(name)) head.set(name, value);
    addFuseboxHeaders(head, provider.id);
    m_session->beginStream(std::move(head));
    m_session->setDrainHandler([self = shared_from_this(), serial = a.serial] {
        if (self->isCurrent(serial) && self->m_attempt->call) self->m_attempt->call->resume();
    });
    relay(std::exchange(a.held, {}));
}

void ProxyExchange::relay(const std::string& bytes) {
    if (bytes.empty()) return;
    m_session->sendChunk(bytes);
    // Backpressure: a client that reads slowly slows the provider down instead of filling our memory.
    if (m_session->pendingBytes() > ClientSession::kHighWater && m_attempt && m_attempt->call) m_attempt->call->pause();
}

void ProxyExchange::onDone(const UpstreamResult& result) {
    Attempt& a = *m_attempt;
    if (m_clientGone) {
        completeAttempt(Outcome::Cancelled, "the client went away", false);
        finish();
        return;
    }
    if (a.status == 0) a.status = result.status;
    if (a.eventStream) finishStream(result);
    else finishWhole(result);
}

std::string ProxyExchange::upstreamFailureReason(const UpstreamResult& result) const {
    const Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    if (!result.ok()) return clip(redact(result.message, provider.apiKey));
    std::string reason = "HTTP " + std::to_string(a.status);
    if (auto message = dialectFor(provider.kind).upstreamErrorMessage(a.body)) reason += ": " + *message;
    return clip(redact(reason, provider.apiKey));
}

void ProxyExchange::finishWhole(const UpstreamResult& result) {
    Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    Outcome outcome = classify(a.status, result.error);
    if (outcome == Outcome::Success) {
        const json parsed = json::parse(a.body, nullptr, false);
        if (parsed.is_discarded() || !parsed.is_object()) {
            failOver(Outcome::BadResponse, "HTTP " + std::to_string(a.status) + " with a body that is not JSON");
            return;
        }
        if (m_stream) {
            failOver(Outcome::BadResponse, "asked for a stream, got a JSON answer");
            return;
        }
        a.usage = dialectFor(provider.kind).usageFromBody(parsed);
        if (a.crossApi) a.body = translateAnswer(parsed, m_endpoint).dump(-1, ' ', false, json::error_handler_t::replace);
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
    const std::string provider = m_context.config.providers[a.providerIndex].id;
    // The breaker hears the outcome before the client does, so whoever reads the answer sees its effect.
    completeAttempt(outcome, reason, true, retryAfter);
    answerWhole(status, head, std::move(body), provider);
    finish();
}

std::string ProxyExchange::translatedErrorBody(int status, const std::string& body) const {
    const ProviderConfig& provider = m_context.config.providers[m_attempt->providerIndex];
    const std::string message = dialectFor(provider.kind).upstreamErrorMessage(body).value_or(
        "provider " + provider.id + " answered HTTP " + std::to_string(status));
    const std::string type = status >= 400 && status < 500 ? "invalid_request_error" : "upstream_error";
    return m_dialect.errorBody(status, type, clip(redact(message, provider.apiKey))).dump();
}

void ProxyExchange::finishStream(const UpstreamResult& result) {
    Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    const bool clean = result.ok() && a.sawTerminal;
    if (!a.committed) {
        if (clean) { // a stream that ended properly without content: an empty answer, still an answer
            commit();
            completeAttempt(Outcome::Success, "", true);
            m_session->endStream();
            finish();
            return;
        }
        const Outcome outcome = result.ok() ? Outcome::BadResponse : classify(a.status, result.error);
        const std::string reason = result.ok() ? "stream ended before its end, with no content"
                                               : upstreamFailureReason(result) + " (before the first content)";
        failOver(outcome, reason);
        return;
    }
    if (clean) {
        completeAttempt(Outcome::Success, "", true);
        m_session->endStream();
    } else {
        // After the commit point the client has part of an answer: it must learn the stream broke.
        const std::string reason = "stream from " + provider.id + " broke after it started: " +
                                   (result.ok() ? std::string("it ended without its end marker")
                                                : upstreamFailureReason(result));
        completeAttempt(Outcome::BadResponse, reason, false);
        m_session->endStream(m_dialect.streamErrorEvent(reason));
    }
    finish();
}

void ProxyExchange::failOver(Outcome outcome, const std::string& reason, std::optional<Millis> retryAfter) {
    completeAttempt(outcome, reason, false, retryAfter);
    if (m_clientGone) return finish();
    tryTargets();
}

AttemptRecord ProxyExchange::newRecord(std::size_t providerIndex, const std::string& model, Outcome outcome,
                                       std::string state, std::string reason) const {
    AttemptRecord record;
    record.at = m_context.clock.wallNow();
    record.requestId = m_requestId;
    record.route = m_resolution.route;
    record.provider = m_context.config.providers[providerIndex].id;
    record.providerIndex = providerIndex;
    record.model = model;
    record.endpoint = m_endpoint;
    record.stream = m_stream;
    record.outcome = outcome;
    record.state = std::move(state);
    record.reason = std::move(reason);
    return record;
}

void ProxyExchange::completeAttempt(Outcome outcome, const std::string& reason, bool delivered,
                                    std::optional<Millis> retryAfter) {
    Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    CircuitBreaker& breaker = *m_context.breakers[a.providerIndex];
    breaker.complete(a.permit, {outcome, a.timeToFirstByte, retryAfter});

    AttemptRecord record = newRecord(a.providerIndex, a.model, outcome, std::string(breakerStateName(breaker.state())),
                                     reason);
    record.status = a.status;
    record.timeToFirstByte = a.timeToFirstByte;
    record.duration = std::chrono::duration_cast<Millis>(m_context.clock.now() - a.started);
    record.usage = a.usage;
    record.delivered = delivered;
    if (m_context.recordAttempt) m_context.recordAttempt(record);
    m_attempts.push_back({provider.id, a.model, outcome, record.state, reason, std::nullopt});
    if (outcome != Outcome::Success)
        Log::info("attempt failed", {{"request_id", m_requestId}, {"route", m_resolution.route},
                                     {"provider", provider.id}, {"outcome", std::string(outcomeName(outcome))},
                                     {"reason", reason}});

    // The call's own callback may be what brought us here: let it go only after that callback has returned.
    if (a.call) boost::asio::post(m_session->executor(), [call = std::move(a.call)] {});
    m_attempt.reset();
}

void ProxyExchange::recordRefusal(const ResolvedTarget& target, Outcome outcome, const std::string& state,
                                  const std::string& reason, std::optional<double> retryAfterS) {
    const ProviderConfig& provider = m_context.config.providers[target.providerIndex];
    const AttemptRecord record = newRecord(target.providerIndex, target.model, outcome, state, reason);
    if (m_context.recordAttempt) m_context.recordAttempt(record);
    m_attempts.push_back({provider.id, target.model, outcome, state, reason, retryAfterS});
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
    const long retryHeader = std::max(1L, static_cast<long>(std::ceil(soonest)));

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
                          {"retry_after_s", std::round(soonest * 10.0) / 10.0},
                          {"attempts", std::move(attempts)}};
    const std::string type = allRefused ? "circuit_open" : "upstream_unavailable";
    const std::string message = "no provider of route " + m_resolution.route + " can answer now: " +
                                (summary.empty() ? "it has no targets" : summary) + ". Retry in " +
                                std::to_string(retryHeader) + " s.";
    json body = m_dialect.errorBody(503, type, message);
    if (m_dialect.kind() == ProviderKind::OpenAI) body["error"]["fusebox"] = fusebox;
    else body["fusebox"] = fusebox;

    Response response = jsonResponse(503, body, m_request.version());
    response.set(http::field::retry_after, std::to_string(retryHeader));
    if (allRefused) response.set("x-fusebox-breaker", "open");
    addFuseboxHeaders(response, "none");
    Log::info("no target could answer", {{"request_id", m_requestId}, {"route", m_resolution.route},
                                         {"type", type}, {"retry_after_s", std::to_string(retryHeader)}});
    m_session->respond(std::move(response));
    finish();
}

void ProxyExchange::answerWhole(int status, const UpstreamHead& head, std::string body, const std::string& provider) {
    Response response{static_cast<http::status>(status), m_request.version()};
    response.set(http::field::content_type, head.header("content-type").value_or("application/json"));
    response.set(http::field::server, "fusebox");
    for (const auto& [name, value] : head.headers)
        if (passedThrough(name)) response.set(name, value);
    addFuseboxHeaders(response, provider);
    response.body() = std::move(body);
    m_session->respond(std::move(response));
}

void ProxyExchange::answerError(int status, const std::string& type, const std::string& message,
                                const std::optional<std::string>& param) {
    Response response = errorResponse(m_dialect.kind(), status, type, message, param, m_request.version());
    addFuseboxHeaders(response, "none");
    m_session->respond(std::move(response));
    finish();
}

template <class Message> void ProxyExchange::addFuseboxHeaders(Message& message, const std::string& provider) const {
    message.set("x-fusebox-route", m_resolution.route.empty() ? "none" : m_resolution.route);
    message.set("x-fusebox-provider", provider);
    message.set("x-fusebox-attempts", std::to_string(m_attempts.size() + (m_attempt ? 1 : 0)));
    message.set("x-request-id", m_requestId);
}

void ProxyExchange::onClientGone() {
    m_clientGone = true;
    if (m_attempt && m_attempt->call) {
        m_attempt->call->cancel(); // onDone(Cancelled) follows and completes the attempt
        return;
    }
    m_waitTimer.cancel();
    finish();
}

void ProxyExchange::finish() {
    if (m_finished) return;
    m_finished = true;
    m_waitTimer.cancel();
}

} // namespace fusebox
