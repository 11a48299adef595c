#include "proxy/ProxyExchange.h"

#include "core/Ids.h"
#include "core/JsonMembers.h"
#include "core/Log.h"
#include "core/Redaction.h"
#include "core/UntrustedJson.h"
#include "proxy/ProxyExchangeShared.h"
#include "proxy/UpstreamClient.h"
#include "proxy/UpstreamHeaders.h"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace fusebox {

using nlohmann::json;
using exchange::addsToStreamedBody;
using exchange::clip;
using exchange::kMaxNameBytes;

namespace {

// The client's request headers with lower-case names, for the dialect to choose from (Dialect::providerHeaders).
ClientHeaders clientHeaders(const Request& request) {
    ClientHeaders headers;
    headers.reserve(static_cast<std::size_t>(std::distance(request.begin(), request.end())));
    for (const auto& field : request)
        headers.emplace_back(lowerCase(field.name_string()), std::string_view(field.value()));
    return headers;
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
    guarded([this] { begin(); });
}

template <class Fn> void ProxyExchange::guarded(Fn&& fn) {
    // The boundary: whatever escapes the handling of this one request (a bug of ours; untrusted input has its
    // own checks) ends this request with a 500 in its API's shape, never the process. The upstream callbacks
    // run inside libcurl's C frames, which an exception must never cross.
    try {
        fn();
    } catch (const std::exception& e) {
        onInternalError(e.what());
    } catch (...) {
        onInternalError("unknown exception");
    }
}

void ProxyExchange::onInternalError(const std::string& what) noexcept {
    try {
        const std::string why = clip(what);
        Log::error("request failed inside Fusebox", {{"request_id", m_requestId}, {"error", why}});
        if (m_finished) return;
        const bool committed = m_attempt && m_attempt->committed;
        if (m_attempt) {
            m_attempt->failed = true;
            if (m_attempt->call) m_attempt->call->cancel();
            // Our fault, not the provider's: the breaker hears "cancelled", which proves nothing either way.
            completeAttempt(Outcome::Cancelled, "internal error in Fusebox: " + why, false);
        }
        if (committed) {
            m_session->endStream(streamErrorEvent("Fusebox failed on this request: " + why));
            finish();
        } else {
            answerError(500, "internal_error", "Fusebox failed on this request (" + why + "); please report it");
        }
    } catch (...) {
        finish(); // nothing more can be said; the session ends the request when we let go of it
    }
}

void ProxyExchange::begin() {
    m_started = m_context.clock.now();
    auto clientId = requestHeader(m_request, "x-request-id");
    m_requestId = clientId && usableRequestId(*clientId) ? *clientId : newRequestId();
    auto self = shared_from_this();
    m_session->setGoneHandler([self] { self->onClientGone(); });
    if (!parseRequest()) return;
    m_resolution = m_context.routes.resolve(m_clientModel);
    if (!m_resolution.found) {
        answerError(404, "model_not_found",
                    "no route or provider serves the model \"" + clipUtf8(m_clientModel, kMaxNameBytes) +
                        "\", and there is no route named \"default\" to send it to");
        return;
    }
    tryTargets();
}

bool ProxyExchange::parseRequest() {
    const JsonShape shape = scanJson(m_request.body());
    if (m_context.memoryBudget) {
        // The body's bytes and its parsed form, until this exchange ends.
        const int64_t bytes = static_cast<int64_t>(m_request.body().size()) + shape.estimatedDomBytes();
        auto reservation = m_context.memoryBudget->reserve(bytes);
        if (!reservation) {
            Log::throttled(LogLevel::Warn, "request memory budget", std::chrono::seconds(10),
                           "request refused: request bodies in flight would pass limits.max_body_memory_bytes",
                           {{"request_id", m_requestId},
                            {"limit_bytes", std::to_string(m_context.memoryBudget->limit())}});
            answerBusy("the request bodies in flight would pass limits.max_body_memory_bytes (" +
                       std::to_string(m_context.memoryBudget->limit() >> 20) + " MiB)");
            return false;
        }
        m_memory = std::move(*reservation);
    }
    // A request that passes on as it came needs only these members; the whole document is built only when the
    // body must change (fullBody()). The pass validates the whole body all the same.
    m_bodyShape = shape;
    JsonMembers parsed = readTopLevelMembers(m_request.body(), shape, {"model", "stream", "stream_options"});
    if (!parsed.ok() || !parsed.object) {
        answerError(400, "invalid_request_error",
                    "the request body is not a JSON object" + (parsed.ok() ? std::string() : " (" + parsed.error + ")"));
        return false;
    }
    m_body = std::move(parsed.value);
    const json* model = JsonReader::member(m_body, "model");
    if (!model || !model->is_string() || model->get_ref<const std::string&>().empty()) {
        answerError(400, "invalid_request_error", "missing required parameter: 'model' (a non-empty string)",
                    "model");
        return false;
    }
    m_clientModel = model->get<std::string>();
    // What Fusebox itself reads of a request that passes through: a wrong type is the client's 400, in its API's
    // shape, never an exception (the rest is the provider's to judge).
    JsonReader reader;
    if (m_endpoint != ApiEndpoint::Embeddings && m_endpoint != ApiEndpoint::CountTokens)
        m_stream = reader.boolean(m_body, "stream").value_or(false);
    if (const json* options = reader.object(m_body, "stream_options"))
        m_clientAskedUsage = reader.boolean(*options, "include_usage", "stream_options").value_or(false);
    if (reader.failed()) {
        answerError(400, "invalid_request_error", reader.error());
        return false;
    }
    return true;
}

const json& ProxyExchange::fullBody() {
    if (!m_fullBody) {
        // parseRequest validated these bytes already (same depth limit): this parse cannot fail.
        ParsedJson parsed = parseScanned(m_request.body(), m_bodyShape);
        m_fullBody = parsed.ok() ? std::move(parsed.value) : json::object();
    }
    return *m_fullBody;
}

void ProxyExchange::tryTargets() {
    while (m_next < m_resolution.targets.size()) {
        const ResolvedTarget target = m_resolution.targets[m_next++];
        const ProviderConfig& provider = m_context.config.providers[target.providerIndex];
        CircuitBreaker& breaker = *m_context.breakers[target.providerIndex];
        // Only a translation reads the rest of the body.
        const json& body = upstreamEndpoint(m_endpoint, provider) == m_endpoint ? m_body : fullBody();
        TargetApi api = targetApi(body, m_endpoint, target, provider);
        if (!api.invalid.empty()) { // the request is malformed: no provider would take it
            answerError(400, "invalid_request_error", api.invalid);
            return;
        }
        if (!api.usable()) { // skipped before its breaker is asked: no permit is taken
            recordRefusal(target, Outcome::ClientError, std::string(breakerStateName(breaker.state())), api.skipReason,
                          std::nullopt);
            continue;
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
            m_attempt->redactor = &m_context.redactors[target.providerIndex];
            m_attempt->model = target.model;
            m_attempt->permit = std::move(admission.permit);
            m_attempt->started = m_context.clock.now();
            const std::string hint = provider.apiKeyVariables.empty()
                                         ? "configure its api_key"
                                         : "set " + provider.apiKeyVariables.front();
            completeAttempt(Outcome::AuthError, "provider " + provider.id + " has no key: " + hint, false);
            continue;
        }
        attempt(target, std::move(admission.permit), std::move(api));
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
                self->guarded([&] { self->tryTargets(); });
            });
            return;
        }
    }
    answerUnavailable();
}

UpstreamRequest ProxyExchange::upstreamRequest(const ProviderConfig& provider, ApiEndpoint endpoint,
                                               const std::string& model, bool& clientAskedUsage,
                                               std::optional<json> crossBody) {
    const Dialect& dialect = dialectFor(provider.kind);
    UpstreamRequest request;
    request.method = "POST";
    request.url = dialect.upstreamUrl(provider, endpoint);
    request.timeouts = provider.timeouts;
    request.stream = m_stream; // a whole answer may think for minutes before its first byte: only total bounds it
    if (crossBody) {
        dialect.prepareBody(*crossBody, endpoint, m_stream);
        // Whether the client itself asked for a usage chunk (OpenAI's stream_options); the translator decides.
        clientAskedUsage = m_clientAskedUsage;
        request.body = dumpJson(*crossBody);
    } else if (model == m_clientModel && (!m_stream || !addsToStreamedBody(endpoint))) {
        // Nothing to change: the client's bytes go as they came, which spares a serialisation per request.
        request.body = m_request.body();
        clientAskedUsage = false;
    } else if (auto text = model == m_clientModel ? dialect.preparedBodyText(m_request.body(), m_body, m_endpoint, m_stream)
                                                  : std::nullopt) {
        request.body = std::move(text->first);
        clientAskedUsage = text->second;
    } else {
        json body = fullBody();
        body["model"] = model;
        clientAskedUsage = dialect.prepareBody(body, m_endpoint, m_stream);
        request.body = dumpJson(body);
    }
    request.headers.reserve(8); // ours, the key's, and what little of the client's passes: one allocation
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("Accept", m_stream ? "text/event-stream" : "application/json");
    request.headers.emplace_back("User-Agent", std::string("fusebox/") + FUSEBOX_VERSION);
    // The client's own credentials are never forwarded: the dialect adds the provider's key in its own header.
    dialect.providerHeaders(provider, clientHeaders(m_request), request.headers);
    return request;
}

void ProxyExchange::attempt(const ResolvedTarget& target, Permit permit, TargetApi api) {
    const ProviderConfig& provider = m_context.config.providers[target.providerIndex];
    m_attempt.emplace();
    Attempt& a = *m_attempt;
    a.serial = ++m_attemptSerial;
    a.providerIndex = target.providerIndex;
    a.model = target.model;
    a.permit = std::move(permit);
    a.started = m_context.clock.now();
    a.crossApi = api.crossBody.has_value();
    a.upstream = api.upstream; // targetApi decided it, before the breaker was asked
    a.redactor = &m_context.redactors[target.providerIndex];
    UpstreamRequest request =
        upstreamRequest(provider, a.upstream, target.model, a.clientAskedUsage, std::move(api.crossBody));
    if (a.crossApi && m_stream) a.translator.emplace(a.upstream, m_endpoint, a.clientAskedUsage);

    // Callbacks of an attempt we already gave up on (failed over, cancelled) must not touch the next one.
    auto self = shared_from_this();
    const uint64_t serial = a.serial;
    UpstreamCallbacks callbacks;
    callbacks.onHead = [self, serial](const UpstreamHead& head) {
        if (self->isCurrent(serial)) self->guarded([&] { self->onHead(head); });
    };
    callbacks.onData = [self, serial](std::string_view chunk) {
        if (self->isCurrent(serial)) self->guarded([&] { self->onData(chunk); });
    };
    callbacks.onDone = [self, serial](const UpstreamResult& result) {
        if (self->isCurrent(serial)) self->guarded([&] { self->onDone(result); });
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

void ProxyExchange::onDone(const UpstreamResult& result) {
    Attempt& a = *m_attempt;
    if (m_clientGone) {
        if (a.answered) return finishAfterClientLeft(result);
        completeAttempt(Outcome::Cancelled, "the client went away", false);
        finish();
        return;
    }
    if (a.status == 0) a.status = result.status;
    if (result.error == TransportError::Local) {
        // This machine is out of descriptors or memory: the provider was never reached, so its breaker hears
        // nothing of it (classify makes it "cancelled"), and the next target would fail the same way.
        const std::string reason = clip(result.message);
        const bool committed = a.committed;
        completeAttempt(classify(0, result.error), reason, false); // ends `a`
        if (committed) {
            m_session->endStream(streamErrorEvent(reason));
            return finish();
        }
        return answerBusy(reason);
    }
    if (a.eventStream) finishStream(result);
    else finishWhole(result);
}

std::string ProxyExchange::upstreamFailureReason(const UpstreamResult& result) const {
    const Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    if (!result.ok()) return clip(redacted(result.message, provider.apiKey));
    std::string reason = "HTTP " + std::to_string(a.status);
    if (auto message = dialectFor(provider.kind).upstreamErrorMessage(a.body)) reason += ": " + *message;
    return clip(redacted(reason, provider.apiKey));
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
    // Bounded: the journal keeps every record, and these are the client's to choose (a 20 MiB model name).
    record.route = clipUtf8(m_resolution.route, kMaxNameBytes);
    record.metricsLabel = clipUtf8(m_resolution.metricsLabel, kMaxNameBytes);
    record.provider = m_context.config.providers[providerIndex].id;
    record.providerIndex = providerIndex;
    record.model = clipUtf8(model, kMaxNameBytes);
    // The API the provider was asked in: its usage follows that API's conventions (spend reads it so).
    record.endpoint = upstreamEndpoint(m_endpoint, m_context.config.providers[providerIndex]);
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
    m_attempts.push_back({provider.id, record.model, outcome, record.state, reason, std::nullopt});
    if (m_context.recordAttempt) m_context.recordAttempt(std::move(record));
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
    AttemptRecord record = newRecord(target.providerIndex, target.model, outcome, state, reason);
    m_attempts.push_back({provider.id, record.model, outcome, state, reason, retryAfterS});
    if (m_context.recordAttempt) m_context.recordAttempt(std::move(record));
}

void ProxyExchange::onClientGone() {
    m_clientGone = true;
    if (m_attempt && m_attempt->call) {
        if (m_attempt->answered) {
            // It left with the whole answer, before the usage that follows it (older Codex closes its socket right
            // after the finish_reason chunk): the call goes on, within the provider's idle and total deadlines,
            // so the tokens are counted and the attempt is journaled as the delivered success it was.
            m_attempt->call->resume(); // no client paces it any more
            return;
        }
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
