// ProxyExchange, its stream: events read, held until the commit point, then relayed to the client with
// backpressure; and the end of a stream, clean or broken (CONTRACT §3).
#include "proxy/ProxyExchange.h"

#include "core/Redaction.h"
#include "providers/ResponsesEvents.h"
#include "proxy/ProxyExchangeShared.h"
#include "proxy/UpstreamClient.h"

namespace fusebox {

using exchange::addsToStreamedBody;
using exchange::clip;

namespace {

constexpr std::size_t kMaxWholeBody = 64 * 1024 * 1024; // a non-streamed answer larger than this is not an LLM's
constexpr std::size_t kMaxErrorBody = 1024 * 1024;
// Events held back before the commit point. A provider that sends megabytes of role-only deltas and no content
// is not answering; past this it is failed over (and the memory let go) instead of held until `total`.
constexpr std::size_t kMaxHeldBytes = 1024 * 1024;

} // namespace

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
    if (m_attempt) m_attempt->redactor->redactInPlace(bytes);
    m_session->sendChunk(std::move(bytes));
    // Backpressure: a client that reads slowly slows the provider down instead of filling our memory.
    if (m_session->pendingBytes() > ClientSession::kHighWater && m_attempt && m_attempt->call) m_attempt->call->pause();
}

// Translated or not, the client's API shapes it; a Responses client's numbering follows what it was sent.
std::string ProxyExchange::streamErrorEvent(const std::string& message) const {
    return m_dialect.streamErrorEvent(m_endpoint, message, {m_lastSequence + 1});
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

} // namespace fusebox
