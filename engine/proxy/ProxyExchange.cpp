#include "proxy/ProxyExchange.h"

#include "breaker/RetryAfter.h"
#include "core/Ids.h"
#include "core/JsonMembers.h"
#include "core/Log.h"
#include "core/Redaction.h"
#include "core/UntrustedJson.h"
#include "providers/ResponsesEvents.h"
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
// Events held back before the commit point. A provider that sends megabytes of role-only deltas and no content
// is not answering; past this it is failed over (and the memory let go) instead of held until `total`.
constexpr std::size_t kMaxHeldBytes = 1024 * 1024;
// A provider header longer than this is not passed on (Beast refuses values over 64 KiB, by throwing).
constexpr std::size_t kMaxPassedHeaderBytes = 8 * 1024;
// What our own headers and journal keep of a client-chosen name (a route or PROVIDER/MODEL).
constexpr std::size_t kMaxNameBytes = 256;

// Upstream headers worth passing on to the client: its rate-limit state and request id help it behave.
bool passedThrough(std::string_view name) {
    return name.starts_with("x-ratelimit-") || name.starts_with("anthropic-ratelimit-") || name == "retry-after" ||
           name == "request-id" || name == "openai-processing-ms" || name == "x-request-id-upstream";
}

std::string clip(const std::string& text) { return clipUtf8(text, kMaxReasonChars); }

// The client's request headers with lower-case names, for the dialect to choose from (Dialect::providerHeaders).
HeaderList clientHeaders(const Request& request) {
    HeaderList headers;
    for (const auto& field : request) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        headers.emplace_back(std::move(name), std::string(field.value()));
    }
    return headers;
}

std::optional<std::string> requestHeader(const Request& request, std::string_view name) {
    auto it = request.find(boost::beast::string_view(name.data(), name.size()));
    if (it == request.end()) return std::nullopt;
    return std::string(it->value());
}

// Whether the dialect adds to a streamed request of `endpoint` (stream_options.include_usage), so that the
// client's bytes cannot go as they came.
bool addsToStreamedBody(ApiEndpoint endpoint) {
    return endpoint == ApiEndpoint::ChatCompletions || endpoint == ApiEndpoint::Completions;
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
            // A client that already left had the whole answer (else the call was cancelled when it left).
            completeAttempt(Outcome::BadResponse, "stream event larger than 8 MiB", m_clientGone);
            m_session->endStream(streamErrorEvent("the provider sent an event larger than 8 MiB"));
            finish();
        } else {
            failOver(Outcome::BadResponse, "stream event larger than 8 MiB");
        }
    }
}

void ProxyExchange::onEvent(SseEvent&& event) {
    Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    const StreamEventInfo info = dialectFor(provider.kind).inspect(event, a.upstream, a.usage);
    if (info.terminal) a.sawTerminal = true;
    if (m_clientGone) {
        // The client left with the whole answer: what follows is read for its usage alone.
        if (!info.error) return;
        a.failed = true;
        a.call->cancel();
        completeAttempt(info.errorOutcome,
                        "error event after the final event (the client had left): " +
                            clip(redacted(info.errorMessage, provider.apiKey)),
                        true);
        return finish();
    }
    // What the client gets of this event: the event itself, less OpenAI's usage chunk when the client did not
    // ask for it (and less the "usage": null that asking puts in every other chunk); or, from a provider of the
    // other API, its translation (often nothing).
    std::string bytes;
    StreamEventInfo judged = info;
    if (a.translator) {
        auto translated = a.translator->translate(event, info, a.usage);
        if (translated) {
            bytes = std::move(*translated);
        } else { // an event of the wrong shape: as broken as one that does not parse
            judged.error = true;
            judged.errorOutcome = Outcome::BadResponse;
            judged.errorMessage = "malformed stream event: " + a.translator->error();
        }
    } else if (!(info.usageOnly && !a.clientAskedUsage)) {
        bytes = std::move(event.raw);
        if (!a.clientAskedUsage && addsToStreamedBody(a.upstream)) dialectFor(provider.kind).dropAddedUsage(bytes);
    }
    if (!a.committed) {
        if (judged.error) {
            a.failed = true;
            a.call->cancel();
            failOver(judged.errorOutcome,
                     "error event before the first content: " + clip(redacted(judged.errorMessage, provider.apiKey)));
            return;
        }
        a.held += bytes;
        if (judged.content) {
            commit();
            a.answered = judged.final; // content and finish_reason in one chunk
            return;
        }
        if (a.held.size() > kMaxHeldBytes) {
            a.failed = true;
            a.call->cancel();
            failOver(Outcome::BadResponse, "more than " + std::to_string(kMaxHeldBytes >> 10) +
                                               " KiB of stream events before the first content");
        }
        return;
    }
    if (!judged.error) {
        relay(std::move(bytes));
        if (judged.final) a.answered = true;
        return;
    }
    // The stream is over for the client whatever follows. The provider's own error event is relayed (it is in
    // the client's API); an event we could not read is not, and our error event says why instead.
    const bool providerSaidIt = judged.errorOutcome != Outcome::BadResponse;
    if (providerSaidIt) relay(bytes);
    a.failed = true;
    a.call->cancel();
    const std::string reason = clip(redacted(judged.errorMessage, provider.apiKey));
    completeAttempt(judged.errorOutcome, "error event after the stream committed: " + reason, false);
    m_session->endStream(providerSaidIt ? std::string()
                                        : streamErrorEvent("stream from " + provider.id + " broke after it started: " +
                                                           reason));
    finish();
}

void ProxyExchange::commit() {
    Attempt& a = *m_attempt;
    a.committed = true;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    http::response<http::empty_body> head{http::status::ok, m_request.version()};
    head.set(http::field::content_type, "text/event-stream; charset=utf-8");
    head.set(http::field::cache_control, "no-cache");
    head.set(http::field::server, "fusebox");
    passHeadersOn(head, a.head, provider);
    addFuseboxHeaders(head, provider.id);
    m_session->beginStream(std::move(head));
    m_session->setDrainHandler([self = shared_from_this(), serial = a.serial] {
        if (self->isCurrent(serial) && self->m_attempt->call) self->m_attempt->call->resume();
    });
    relay(std::exchange(a.held, {}));
}

void ProxyExchange::relay(std::string bytes) {
    if (bytes.empty() || m_clientGone) return;
    if (m_endpoint == ApiEndpoint::Responses) // our own error event, if one comes, numbers on from here
        if (const int64_t sequence = lastSequenceNumber(bytes); sequence >= 0) m_lastSequence = sequence;
    if (m_attempt) redactInPlace(bytes, m_context.config.providers[m_attempt->providerIndex].apiKey);
    m_session->sendChunk(std::move(bytes));
    // Backpressure: a client that reads slowly slows the provider down instead of filling our memory.
    if (m_session->pendingBytes() > ClientSession::kHighWater && m_attempt && m_attempt->call) m_attempt->call->pause();
}

// Translated or not, the client's API shapes it; a Responses client's numbering follows what it was sent.
std::string ProxyExchange::streamErrorEvent(const std::string& message) const {
    return m_dialect.streamErrorEvent(m_endpoint, message, {m_lastSequence + 1});
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

void ProxyExchange::answerBusy(const std::string& message) {
    Response response = errorResponse(m_dialect.kind(), 503, "fusebox_overloaded",
                                      "Fusebox cannot take this request now: " + message + ". Retry shortly.",
                                      std::nullopt, m_request.version());
    response.set(http::field::retry_after, "1");
    addFuseboxHeaders(response, "none");
    m_session->respond(std::move(response));
    finish();
}

std::string ProxyExchange::upstreamFailureReason(const UpstreamResult& result) const {
    const Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    if (!result.ok()) return clip(redacted(result.message, provider.apiKey));
    std::string reason = "HTTP " + std::to_string(a.status);
    if (auto message = dialectFor(provider.kind).upstreamErrorMessage(a.body)) reason += ": " + *message;
    return clip(redacted(reason, provider.apiKey));
}

void ProxyExchange::finishWhole(const UpstreamResult& result) {
    Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    Outcome outcome = classify(a.status, result.error);
    if (outcome == Outcome::Success) {
        // Relayed as it came, the answer is only validated and its usage read: no document of the rest is built.
        // A translated one is parsed in full.
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
        a.usage = dialectFor(provider.kind).usageFromBody(parsed.value, a.upstream);
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
    return dumpJson(m_dialect.errorBody(status, type, clip(redacted(message, provider.apiKey))));
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
        m_session->endStream(streamErrorEvent(reason));
    }
    finish();
}

void ProxyExchange::finishAfterClientLeft(const UpstreamResult& result) {
    Attempt& a = *m_attempt;
    const ProviderConfig& provider = m_context.config.providers[a.providerIndex];
    if (result.ok() && a.sawTerminal) {
        completeAttempt(Outcome::Success, "", true);
    } else {
        // The client has its answer, but the provider broke off before its end marker (and maybe before the
        // usage): judged as it would be had the client stayed.
        const Outcome outcome = result.ok() ? Outcome::BadResponse : classify(a.status, result.error);
        completeAttempt(outcome,
                        "stream from " + provider.id + " broke after its final event (the client had left): " +
                            (result.ok() ? std::string("it ended without its end marker")
                                         : upstreamFailureReason(result)),
                        true);
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
    if (m_context.recordAttempt) m_context.recordAttempt(record);
    m_attempts.push_back({provider.id, record.model, outcome, record.state, reason, std::nullopt});
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
    m_attempts.push_back({provider.id, record.model, outcome, state, reason, retryAfterS});
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
                                const ProviderConfig& provider) {
    Response response{static_cast<http::status>(status), m_request.version()};
    response.set(http::field::content_type, headerValue(head.header("content-type").value_or("application/json")));
    response.set(http::field::server, "fusebox");
    passHeadersOn(response, head, provider);
    addFuseboxHeaders(response, provider.id);
    redactInPlace(body, provider.apiKey);
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

template <class Message>
void ProxyExchange::passHeadersOn(Message& message, const UpstreamHead& head, const ProviderConfig& provider) const {
    for (const auto& [name, value] : head.headers) {
        if (!passedThrough(name)) continue;
        if (value.size() > kMaxPassedHeaderBytes) {
            Log::throttled(LogLevel::Warn, "oversized provider header", std::chrono::seconds(10),
                           "provider header too large, not passed on",
                           {{"provider", provider.id}, {"header", headerValue(name, 64)},
                            {"bytes", std::to_string(value.size())}});
            continue;
        }
        message.set(name, headerValue(redacted(value, provider.apiKey), kMaxPassedHeaderBytes));
    }
}

template <class Message> void ProxyExchange::addFuseboxHeaders(Message& message, const std::string& provider) const {
    message.set("x-fusebox-route", m_resolution.route.empty() ? "none" : headerValue(m_resolution.route, kMaxNameBytes));
    message.set("x-fusebox-provider", provider);
    message.set("x-fusebox-attempts", std::to_string(m_attempts.size() + (m_attempt ? 1 : 0)));
    message.set("x-request-id", m_requestId);
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
