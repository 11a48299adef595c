#pragma once
// Request bodies for tests against the sim provider (and the proxy): small, valid, with known text sizes so
// the sim's usage formula (ceil(bytes / 4)) gives numbers a test can write down.
#include "sim/SimOptions.h"

#include <nlohmann/json.hpp>

#include <QByteArray>

#include <string>

namespace fusebox::test {

// A sim that streams `events` content events `interval` apart: quick enough for tests, paced all the same.
inline sim::Options quickSimOptions(int events = 5, Millis interval = Millis{2}) {
    sim::Options options;
    options.eventInterval = interval;
    options.streamEvents = events;
    return options;
}

// An OpenAI chat request with one user message.
inline nlohmann::json chatRequest(const std::string& content = "Hello there!", bool stream = false,
                                  const std::string& model = "gpt-sim") {
    nlohmann::json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", content}}}}};
    if (stream) body["stream"] = true;
    return body;
}

// An Anthropic messages request with one user message.
inline nlohmann::json messagesRequest(const std::string& content = "Hello there!", bool stream = false,
                                      const std::string& model = "claude-sim") {
    nlohmann::json body = {
        {"model", model}, {"max_tokens", 1024}, {"messages", {{{"role", "user"}, {"content", content}}}}};
    if (stream) body["stream"] = true;
    return body;
}

// Parses a body, or returns a discarded value (is_discarded()) when it is not JSON.
inline nlohmann::json parseJson(const std::string& text) {
    return nlohmann::json::parse(text, nullptr, false);
}

} // namespace fusebox::test

namespace nlohmann {
// Lets QCOMPARE print a JSON value it found unequal (found by argument-dependent lookup).
inline char* toString(const json& value) {
    return qstrdup(value.dump().c_str());
}
} // namespace nlohmann
