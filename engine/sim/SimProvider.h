#pragma once
// A simulated LLM provider: a real HTTP/1.1 server on loopback that speaks OpenAI (chat completions,
// embeddings, models) and Anthropic (messages), streamed or not, with faults switchable at run time. It
// serves the proxy tests, the benchmarks and `fusebox --demo`.
//
//     sim::Options options;
//     options.eventInterval = Millis{5};
//     sim::SimProvider sim(options);
//     sim.start();                                    // port 0: a free port
//     curl  sim.openaiBaseUrl() + "/chat/completions"  // http://127.0.0.1:PORT/v1/chat/completions
//     sim.setFault(sim::Fault::httpError(529));       // Anthropic "overloaded" for what arrives from now on
//
// Paths: POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models (OpenAI shape, or Anthropic's when
// the request carries anthropic-version), POST /v1/messages. Anything else is a 404 in the dialect's error
// shape; a body that is not a JSON object, or has no string `model`, is a 400. Answers and usage:
// SimResponses.h.
//
// The server runs on its own io_context and threads; no call here blocks on a request in flight, and all of
// them may be made from any thread. Not for calling from inside the provider's own threads (stop() joins
// them).
#include "sim/SimFault.h"
#include "sim/SimOptions.h"
#include "sim/SimStats.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fusebox::sim {

class SimProvider {
  public:
    explicit SimProvider(Options options = {});
    ~SimProvider(); // stops
    SimProvider(const SimProvider&) = delete;
    SimProvider& operator=(const SimProvider&) = delete;

    // Binds and starts serving. False, with lastError(), when the address cannot be bound. Starting a running
    // provider does nothing and returns true.
    bool start();
    // Closes every connection (hung and streaming ones included: their clients see the socket close) and
    // joins the threads. Idempotent. Counters and the request log survive; a later start() binds the same
    // port again.
    void stop();
    bool running() const;
    std::string lastError() const;

    uint16_t port() const; // the bound port (still known after stop()); 0 before the first start()
    std::string openaiBaseUrl() const;    // http://127.0.0.1:PORT/v1
    std::string anthropicBaseUrl() const; // http://127.0.0.1:PORT

    // Applies to requests that arrive after the call; answers already under way keep their behaviour.
    void setFault(Fault fault);
    void clearFault();
    std::optional<Fault> fault() const; // count = hits left for a counted fault

    Stats stats() const;
    std::vector<RecordedRequest> recentRequests() const; // oldest first, at most Options::recentCapacity
    void resetStats(); // zeroes the cumulative counters and forgets the request log
    const Options& options() const;

  private:
    class Server;
    std::unique_ptr<Server> m_server;
};

} // namespace fusebox::sim
