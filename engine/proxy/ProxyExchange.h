#pragma once
// One proxied request from start to end (CONTRACT §3): parse, resolve the route, then per target: ask its breaker,
// call the provider, judge the outcome, and either answer the client or fall over to the next target while nothing
// has reached the client yet. A stream commits at its first content-bearing event; before that an in-band error,
// a cut or a stall fails over like any failed attempt. When no target can answer: 503 with Retry-After and every
// attempt. Runs entirely on its session's I/O thread.
#include "breaker/CircuitBreaker.h"
#include "core/Redaction.h"
#include "providers/ApiTranslation.h"
#include "providers/Dialect.h"
#include "providers/SseParser.h"
#include "proxy/ClientSession.h"
#include "proxy/ProxyContext.h"
#include "proxy/TargetApi.h"
#include "proxy/UpstreamCall.h"
#include "proxy/UpstreamTypes.h"
#include "routing/RouteTable.h"

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fusebox {

class ProxyExchange : public std::enable_shared_from_this<ProxyExchange> {
public:
    ProxyExchange(ProxyContext& context, std::shared_ptr<ClientSession> session, Request&& request,
                  ApiEndpoint endpoint);
    ~ProxyExchange();
    void start();

private:
    // What the 503 body lists, one per target tried or refused.
    struct AttemptSummary {
        std::string provider;
        std::string model;
        Outcome outcome;
        std::string state;
        std::string reason;
        std::optional<double> retryAfterS;
    };
    // The attempt in flight.
    struct Attempt {
        // NOTE: user-provided, so that std::optional<Attempt> below may ask whether it is default-constructible
        // before this class is complete (clang answers "no" from the default member initializers, and keeps it).
        Attempt() {}
        uint64_t serial = 0; // which attempt of this exchange: callbacks of an older one are ignored
        std::size_t providerIndex = 0;
        std::string model;
        Permit permit;
        std::shared_ptr<UpstreamCall> call;
        SteadyTime started{};
        Millis timeToFirstByte{0};
        int status = 0;
        UpstreamHead head;
        std::string body; // a non-streamed answer, or an error body
        bool eventStream = false;
        SseParser sse;
        Usage usage;
        bool clientAskedUsage = false;
        ApiEndpoint upstream = ApiEndpoint::ChatCompletions; // what the provider is asked in (upstreamEndpoint)
        bool crossApi = false;                      // the provider speaks another API: answers are translated
        std::optional<StreamTranslator> translator; // ... and so is its stream
        bool committed = false;
        bool sawTerminal = false;
        // The final content event reached the client: it has the whole answer, and leaving no longer cancels
        // the call, whose usage is still read (CONTRACT §3 "Delivered").
        bool answered = false;
        std::string held; // stream events before the commit point
        const SecretRedactor* redactor = nullptr; // the provider's key, taken out of every relayed event
        bool failed = false; // judged already (an in-band error): onDone only cleans up
    };

    void begin();
    // Runs `fn`; an exception that escapes it ends this request alone (onInternalError).
    template <class Fn> void guarded(Fn&& fn);
    void onInternalError(const std::string& what) noexcept;
    bool parseRequest();
    // The whole request body as a document: for a translation, or a body that must change on its way.
    const nlohmann::json& fullBody();
    void tryTargets();
    void attempt(const ResolvedTarget& target, Permit permit, TargetApi api);
    // The request for `provider`, asked in `endpoint` (the client's own, or the one `crossBody` was translated to).
    UpstreamRequest upstreamRequest(const ProviderConfig& provider, ApiEndpoint endpoint, const std::string& model,
                                    bool& clientAskedUsage, std::optional<nlohmann::json> crossBody);
    void onHead(const UpstreamHead& head);
    void onData(std::string_view chunk);
    void onEvent(SseEvent&& event);
    void onDone(const UpstreamResult& result);
    void finishStream(const UpstreamResult& result);
    // The end of a stream whose client left after the whole answer: no one to tell, only the usage to count.
    void finishAfterClientLeft(const UpstreamResult& result);
    void finishWhole(const UpstreamResult& result);
    void commit();
    bool isCurrent(uint64_t serial) const { return m_attempt && m_attempt->serial == serial && !m_attempt->failed; }
    // Sends stream bytes to the client (the provider's key taken out), with backpressure.
    void relay(std::string bytes);
    // Our event that ends a committed stream the upstream broke, in the client's API.
    std::string streamErrorEvent(const std::string& message) const;
    void failOver(Outcome outcome, const std::string& reason, std::optional<Millis> retryAfter = {});
    void completeAttempt(Outcome outcome, const std::string& reason, bool delivered,
                         std::optional<Millis> retryAfter = {});
    // An attempt record with what this exchange and the target say; the caller adds what the call measured.
    AttemptRecord newRecord(std::size_t providerIndex, const std::string& model, Outcome outcome, std::string state,
                            std::string reason) const;
    void recordRefusal(const ResolvedTarget& target, Outcome outcome, const std::string& state,
                       const std::string& reason, std::optional<double> retryAfterS);
    void answerUnavailable();
    void relayWhole(Outcome outcome, const std::string& reason, std::optional<Millis> retryAfter);
    // A provider's error answer in the client's API (for a provider of the other API).
    std::string translatedErrorBody(int status, const std::string& body) const;
    void answerWhole(int status, const UpstreamHead& head, std::string body, const ProviderConfig& provider,
                     const SecretRedactor& redactor);
    // 503 for a request Fusebox itself cannot carry now (memory budget, descriptors), with Retry-After: 1.
    void answerBusy(const std::string& message);
    void answerError(int status, const std::string& type, const std::string& message,
                     const std::optional<std::string>& param = std::nullopt);
    void onClientGone();
    void finish();
    void addFuseboxHeaders(http::fields& message, const std::string& provider) const;
    void addFuseboxHeaders(FramedFields& fields, const std::string& provider) const;
    template <class Fields> void addFuseboxHeadersTo(Fields& fields, const std::string& provider) const;
    // The provider's headers that help a client (rate limits, request id): bounded, sanitized, key redacted.
    void passHeadersOn(http::fields& message, const UpstreamHead& head, const ProviderConfig& provider) const;
    // Those headers, each name once (where its last copy stood, the last copy's value: as setting each in turn
    // on a Beast message leaves them).
    std::vector<std::pair<std::string_view, std::string>> passedHeaders(const UpstreamHead& head,
                                                                       const ProviderConfig& provider) const;
    std::string upstreamFailureReason(const UpstreamResult& result) const;

    ProxyContext& m_context;
    std::shared_ptr<ClientSession> m_session;
    Request m_request;
    ApiEndpoint m_endpoint;
    const Dialect& m_dialect; // the client's API family
    SteadyTime m_started;
    std::string m_requestId;
    nlohmann::json m_body; // the request's model, stream and stream_options members (readTopLevelMembers)
    std::optional<nlohmann::json> m_fullBody; // the whole request, parsed when first needed (fullBody())
    JsonShape m_bodyShape;
    std::string m_clientModel;
    bool m_stream = false;
    bool m_clientAskedUsage = false; // OpenAI's stream_options.include_usage
    int64_t m_lastSequence = -1;     // Responses: the sequence_number of the last event relayed
    Resolution m_resolution;
    std::size_t m_next = 0;
    std::vector<AttemptSummary> m_attempts;
    std::optional<Attempt> m_attempt;
    uint64_t m_attemptSerial = 0;
    boost::asio::steady_timer m_waitTimer;
    bool m_clientGone = false;
    bool m_finished = false;
    RequestMemoryBudget::Reservation m_memory; // for m_request.body() and m_body, until the exchange ends
};

} // namespace fusebox
