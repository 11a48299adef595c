#pragma once
// A fault the simulated provider injects into the requests that arrive after it is set
// (SimProvider::setFault). Requests already being answered keep the behaviour they started with, so a test
// can switch faults mid-stream.
//
// Build one with a named constructor and refine it with the copying modifiers:
//
//     sim.setFault(sim::Fault::httpError(503, "7"));                        // every request: 503,
//     Retry-After: 7 sim.setFault(sim::Fault::httpError(429).times(2));                    // only the next 2
//     requests sim.setFault(sim::Fault::httpError(500).withProbability(0.2, 7));     // a "slow bleed": ~20%
//     fail, seeded sim.setFault(sim::Fault::cutStream(3).withLatency(Millis{200}));      // slow first byte,
//     then a cut
//
// Every kind applies to every endpoint (including GET /v1/models) unless onPath() narrows it.
#include "core/Clock.h"

#include <cstdint>
#include <string>
#include <utility>

namespace fusebox::sim {

enum class FaultKind {
    None,        // answer normally (still honours latency: a pure "slow provider")
    HttpError,   // `status` with an error body in the dialect's own shape, Retry-After when set
    Hang,        // read the request, never answer, until the client closes or stop()
    CutStream,   // streamed: close the socket after `afterEvents` content events, no terminator;
                 // not streamed: send the headers and half of the body, then close
    StreamError, // streamed: an in-band error event after `afterEvents` content events, then a clean end;
                 // not streamed: answered like HttpError with `status` (there is no in-band error there)
    Garbage,     // 200 with a body that is neither valid JSON nor valid SSE
};

struct Fault {
    FaultKind kind = FaultKind::None;
    int status = 503;         // HttpError / StreamError: 503 and 529 map to Anthropic's overloaded_error
    std::string retryAfter;   // HttpError: the Retry-After value exactly as given (seconds or an HTTP date);
                              // empty: none
    std::string message;      // error message; empty: a default naming the status
    Millis latency{0};        // added before the first byte of the answer, whatever the kind
    int afterEvents = 0;      // CutStream / StreamError: content events sent before the fault
    int count = -1;           // how many requests the fault hits before it clears itself; < 0: until cleared
    double probability = 1.0; // each eligible request is hit with this probability (deterministic, see seed)
    uint64_t seed = 1;        // seeds the draw anew on every setFault(), so a run is repeatable
    std::string path;         // only requests to this path (query ignored), e.g. "/v1/messages"; empty: all
    Millis sparedLatency{0};  // added to the requests the probability spares (they answer normally, but late)

    static Fault httpError(int status, std::string retryAfter = {}) {
        Fault f;
        f.kind = FaultKind::HttpError;
        f.status = status;
        f.retryAfter = std::move(retryAfter);
        return f;
    }
    static Fault slow(Millis latency) { return Fault{}.withLatency(latency); }
    static Fault hang() { return ofKind(FaultKind::Hang); }
    static Fault cutStream(int afterEvents) { return ofKind(FaultKind::CutStream).withAfter(afterEvents); }
    static Fault streamError(int afterEvents, int status = 503) {
        Fault f = ofKind(FaultKind::StreamError).withAfter(afterEvents);
        f.status = status;
        return f;
    }
    static Fault garbage() { return ofKind(FaultKind::Garbage); }

    Fault times(int n) const {
        return with([n](Fault& f) { f.count = n; });
    }
    Fault withProbability(double p, uint64_t seed = 1) const {
        return with([p, seed](Fault& f) {
            f.probability = p;
            f.seed = seed;
        });
    }
    Fault withLatency(Millis latency) const {
        return with([latency](Fault& f) { f.latency = latency; });
    }
    // A "slow bleed" is slow for everyone: the requests the probability spares succeed, but after `latency`.
    Fault withSparedLatency(Millis latency) const {
        return with([latency](Fault& f) { f.sparedLatency = latency; });
    }
    Fault withMessage(std::string message) const {
        return with([&message](Fault& f) { f.message = std::move(message); });
    }
    Fault onPath(std::string path) const {
        return with([&path](Fault& f) { f.path = std::move(path); });
    }

    // True when applying it would change nothing (the "no fault" state).
    bool inert() const { return kind == FaultKind::None && latency.count() <= 0; }

  private:
    static Fault ofKind(FaultKind kind) {
        Fault f;
        f.kind = kind;
        return f;
    }
    Fault withAfter(int n) const {
        return with([n](Fault& f) { f.afterEvents = n; });
    }
    template <class Edit> Fault with(Edit edit) const {
        Fault f = *this;
        edit(f);
        return f;
    }
};

const char* toString(FaultKind kind);

} // namespace fusebox::sim
