#pragma once
// The admin API and /metrics on the proxy's listener (CONTRACT §4). Every command goes through the Engine
// facade, the same call the console makes, so it is the same command and the same event wherever it came
// from.
//
// Adding an endpoint is one entry in the route table of AdminHandler.cpp (method, path pattern, member).
#include "admin/EventStream.h"
#include "proxy/ClientSession.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace fusebox {

class Engine;
class MetricsRegistry;

class AdminHandler final : public RequestHandler {
  public:
    AdminHandler(Engine& engine, MetricsRegistry& metrics);

    void handle(const std::shared_ptr<ClientSession>& session, Request&& request) override;
    Response protocolError(int status, const std::string& target, const std::string& message) override;

    // Ends every event stream (engine shutdown).
    void closeStreams() { m_events.closeAll(); }
    std::size_t eventSubscribers() const { return m_events.subscribers(); }

    // One request as the endpoints see it: the path split into segments, the id to answer with.
    struct Call {
        const std::shared_ptr<ClientSession>& session;
        Request& request;
        std::vector<std::string> params; // the {placeholders} of the matched pattern, in order
        std::string requestId;
    };

  private:
    Response state(Call& call);
    Response metrics(Call& call);
    Response providerCommand(Call& call);
    Response putRoute(Call& call);
    Response spend(Call& call);
    Response attemptsCsv(Call& call);
    void events(Call& call);

    Response answerJson(Call& call, int status, const nlohmann::json& body);
    Response error(Call& call, int status, const std::string& type, const std::string& message);

    Engine& m_engine;
    MetricsRegistry& m_metrics;
    EventStream m_events;
};

} // namespace fusebox
