#pragma once
// What the upstream client's tests share: a loop the test thread drives (as an engine I/O thread would), a
// recorder of what a call reported that checks the ordering rules, a plain request, and which engine carries
// plain http:// in this run (FUSEBOX_TEST_PLAIN_HTTP=curl: libcurl; else the loop's own client).
#include "proxy/UpstreamClient.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox::test {

using namespace std::chrono_literals;

inline UpstreamClient::PlainHttp plainHttpEngine() {
    const char* engine = std::getenv("FUSEBOX_TEST_PLAIN_HTTP");
    return engine && std::string_view(engine) == "curl" ? UpstreamClient::PlainHttp::ViaCurl
                                                         : UpstreamClient::PlainHttp::Direct;
}

// Drives the client's io_context from the test thread, as an engine I/O thread would.
class Loop {
  public:
    boost::asio::io_context& io() { return m_io; }
    bool runUntil(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!condition()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            m_io.run_for(2ms);
        }
        return true;
    }
    void runFor(std::chrono::milliseconds duration) { m_io.run_for(duration); }

  private:
    boost::asio::io_context m_io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> m_guard{m_io.get_executor()};
};

// Records what a call reported, and checks the ordering rules on the way.
struct Recorder {
    int heads = 0;
    UpstreamHead head;
    std::vector<std::string> chunks;
    std::string body;
    int dones = 0;
    UpstreamResult result;
    bool orderBroken = false; // onData before onHead, or anything after onDone
    std::function<void()> afterHead;
    std::function<void(std::string_view)> afterChunk;

    UpstreamClient::Callbacks callbacks() {
        UpstreamClient::Callbacks cb;
        cb.onHead = [this](const UpstreamHead& h) {
            if (dones || heads) orderBroken = true;
            ++heads;
            head = h;
            if (afterHead) afterHead();
        };
        cb.onData = [this](std::string_view data) {
            if (dones || !heads) orderBroken = true;
            chunks.emplace_back(data);
            body.append(data);
            if (afterChunk) afterChunk(data);
        };
        cb.onDone = [this](const UpstreamResult& r) {
            if (dones) orderBroken = true;
            ++dones;
            result = r;
        };
        return cb;
    }
    bool done() const { return dones > 0; }
};

inline ProviderTimeouts timeouts(Millis firstByte = 5000ms, Millis idle = 5000ms, Millis total = 15000ms) {
    ProviderTimeouts t;
    t.connect = 5000ms;
    t.firstByte = firstByte;
    t.idle = idle;
    t.total = total;
    return t;
}

inline UpstreamRequest post(const std::string& url, ProviderTimeouts t = timeouts()) {
    UpstreamRequest request;
    request.url = url;
    request.headers = {{"Content-Type", "application/json"}};
    request.body = R"({"model":"m","messages":[]})";
    request.timeouts = t;
    return request;
}

inline const char* name(TransportError e) {
    return transportErrorName(e).data();
}

} // namespace fusebox::test
