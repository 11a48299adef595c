// scripts/bench fleet: trip-to-refusal convergence across a fleet of running Fusebox replicas.
//
// One replica (--trip) has a provider whose upstream always fails; the others (--watch) have the same
// provider id on a healthy upstream. Each trip: requests to the tripping replica until its breaker opens (the
// Nth failure in a row, --failures), then the watchers are sent real requests in turn until each answers 503
// with x-fusebox-breaker: open. The time from the tripping answer's arrival to a watcher's first refusal is
// one sample (an upper bound on the sync delay, by at most one polling round). Then a reset on the tripping
// replica (a fleet-wide operator command) and a wait until every replica serves again before the next trip.
//
// Prints one line per trip and a final line for the script:
//   CONVERGENCE_RESULT samples=N p50_ms=.. p99_ms=.. max_ms=.. missed=M
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Reply {
    int status = 0; // 0: no answer (connection error or timeout)
    bool breakerOpen = false;
    Clock::time_point at;
};

// One kept-alive HTTP/1.1 connection with a deadline on every exchange (async under the hood, so it can time
// out).
class Connection {
  public:
    explicit Connection(uint16_t port) : m_port(port) {}

    Reply send(http::verb method, const std::string& target, const std::string& body,
               std::chrono::milliseconds timeout = 5s) {
        Reply reply;
        for (int attempt = 0; attempt < 2;
             ++attempt) { // a kept-alive connection the server closed: once more
            if (!m_stream && !connect()) return reply;
            http::request<http::string_body> req{method, target, 11};
            req.set(http::field::host, "127.0.0.1");
            req.set(http::field::content_type, "application/json");
            req.set(http::field::authorization, "Bearer bench");
            req.body() = body;
            req.prepare_payload();
            http::response<http::string_body> res;
            beast::error_code failed;
            m_stream->expires_after(timeout);
            http::async_write(*m_stream, req, [&](beast::error_code ec, std::size_t) {
                if (ec) {
                    failed = ec;
                    return;
                }
                http::async_read(*m_stream, m_buffer, res,
                                 [&](beast::error_code ec2, std::size_t) { failed = ec2; });
            });
            m_io.restart();
            m_io.run();
            if (failed) {
                m_stream.reset();
                m_buffer.clear();
                continue;
            }
            reply.status = static_cast<int>(res.result_int());
            reply.breakerOpen =
                res.find("x-fusebox-breaker") != res.end() && res["x-fusebox-breaker"] == "open";
            reply.at = Clock::now();
            if (!res.keep_alive()) m_stream.reset();
            return reply;
        }
        return reply;
    }

  private:
    bool connect() {
        m_stream.emplace(m_io);
        beast::error_code ec;
        m_stream->socket().connect(tcp::endpoint(asio::ip::address_v4::loopback(), m_port), ec);
        if (ec) m_stream.reset();
        return m_stream.has_value();
    }

    uint16_t m_port;
    asio::io_context m_io;
    std::optional<beast::tcp_stream> m_stream;
    beast::flat_buffer m_buffer;
};

std::vector<uint16_t> ports(const std::string& list) {
    std::vector<uint16_t> out;
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ','))
        out.push_back(static_cast<uint16_t>(std::stoi(item)));
    return out;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto rank =
        static_cast<std::size_t>(std::max(0.0, std::ceil(p * static_cast<double>(v.size())) - 1));
    return v[std::min(rank, v.size() - 1)];
}

int usage() {
    std::fprintf(stderr, "usage: fleet_convergence --trip PORT --watch PORT[,PORT...] [--model ROUTE] "
                         "[--provider ID] [--trips N] [--failures N] [--give-up-ms MS]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    uint16_t tripPort = 0;
    std::vector<uint16_t> watchPorts;
    std::string model = "flaky", provider = "flaky";
    int trips = 30, failures = 3, giveUpMs = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--trip")
            tripPort = static_cast<uint16_t>(std::stoi(v));
        else if (k == "--watch")
            watchPorts = ports(v);
        else if (k == "--model")
            model = v;
        else if (k == "--provider")
            provider = v;
        else if (k == "--trips")
            trips = std::stoi(v);
        else if (k == "--failures")
            failures = std::stoi(v);
        else if (k == "--give-up-ms")
            giveUpMs = std::stoi(v);
        else
            return usage();
    }
    if (tripPort == 0 || watchPorts.empty()) return usage();

    const std::string chat =
        "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    Connection tripper(tripPort);
    std::vector<std::unique_ptr<Connection>> watchers;
    for (uint16_t p : watchPorts)
        watchers.push_back(std::make_unique<Connection>(p));

    std::vector<double> samples;
    int missed = 0;
    for (int trip = 1; trip <= trips; ++trip) {
        // Every replica serves the provider again (the previous trip's reset has reached them all).
        const auto readyBy = Clock::now() + 10s;
        for (auto& w : watchers)
            while (w->send(http::verb::post, "/v1/chat/completions", chat).status != 200 &&
                   Clock::now() < readyBy)
                std::this_thread::sleep_for(20ms);

        Reply tripped;
        for (int i = 0; i < failures; ++i)
            tripped = tripper.send(http::verb::post, "/v1/chat/completions", chat);
        if (tripped.status == 0) {
            std::fprintf(stderr, "fleet_convergence: the tripping replica does not answer\n");
            return 1;
        }
        // The watchers in turn, one request each per round, so none waits for another's refusal.
        const auto deadline = tripped.at + std::chrono::milliseconds(giveUpMs);
        std::vector<std::optional<double>> ms(watchers.size());
        auto pending = [&] { return std::any_of(ms.begin(), ms.end(), [](const auto& m) { return !m; }); };
        while (pending() && Clock::now() < deadline) {
            for (std::size_t w = 0; w < watchers.size(); ++w) {
                if (ms[w]) continue;
                const Reply r = watchers[w]->send(http::verb::post, "/v1/chat/completions", chat);
                if (r.status == 503 && r.breakerOpen)
                    ms[w] = std::chrono::duration<double, std::milli>(r.at - tripped.at).count();
            }
        }
        std::printf("trip %2d:", trip);
        for (std::size_t w = 0; w < watchers.size(); ++w) {
            if (ms[w]) {
                samples.push_back(*ms[w]);
                std::printf("  replica %zu %.1f ms", w + 2, *ms[w]);
            } else {
                ++missed;
                std::printf("  replica %zu MISSED (> %d ms)", w + 2, giveUpMs);
            }
        }
        std::printf("\n");
        std::fflush(stdout);
        tripper.send(http::verb::post, "/admin/v1/providers/" + provider + "/reset",
                     "{\"reason\":\"bench\"}");
    }
    std::printf("CONVERGENCE_RESULT samples=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f missed=%d\n",
                samples.size(), percentile(samples, 0.5), percentile(samples, 0.99),
                samples.empty() ? 0.0 : *std::max_element(samples.begin(), samples.end()), missed);
    return 0;
}
