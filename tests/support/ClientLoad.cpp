#include "ClientLoad.h"

#include "SimHttpClient.h"
#include "SimRequests.h"

namespace fusebox::test {

ClientLoad::ClientLoad(std::vector<uint16_t> ports, std::string model, std::chrono::milliseconds pause)
    : m_body(chatRequest("keep going", false, model).dump()), m_pause(pause) {
    for (uint16_t port : ports)
        m_threads.emplace_back([this, port] { run(port); });
}

ClientLoad::~ClientLoad() {
    stop();
}

void ClientLoad::stop() {
    m_stop = true;
    for (auto& t : m_threads)
        if (t.joinable()) t.join();
}

void ClientLoad::run(uint16_t port) {
    // A client waits up to 10 s: far beyond any answer the sims give, so a request that is merely held up (by
    // a proxy waiting on Redis, say) shows up as a failure only if it is held that long. Slow answers are not
    // the question here; failed ones are.
    SimHttpClient client(port, std::chrono::seconds(10));
    while (!m_stop) {
        const HttpReply reply = client.post("/v1/chat/completions", m_body);
        if (reply.complete() && reply.status == 200) {
            ++m_ok;
        } else {
            ++m_failed;
            std::lock_guard lock(m_mutex);
            if (m_failures.size() < 10)
                m_failures.push_back("port " + std::to_string(port) + ": status " +
                                     std::to_string(reply.status) + ", " +
                                     (reply.complete() ? reply.body.substr(0, 200) : reply.error));
        }
        std::this_thread::sleep_for(m_pause);
    }
}

std::vector<std::string> ClientLoad::failures() const {
    std::lock_guard lock(m_mutex);
    return m_failures;
}

std::string ClientLoad::summary() const {
    std::string text = std::to_string(succeeded()) + " ok, " + std::to_string(failed()) + " failed";
    for (const auto& f : failures())
        text += "\n  " + f;
    return text;
}

} // namespace fusebox::test
