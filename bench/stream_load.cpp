// scripts/bench stream: N concurrent SSE streams through Fusebox, against the same load sent straight to the
// simulated provider, in one run.
//
// The program starts a SimProvider in-process (eventInterval and streamEvents as given), spawns `fusebox
// --headless` as a separate process pointing at it (so its RSS is its own), and runs, for each mode:
//   direct  N streaming chat completions straight to the sim,
//   fusebox the same N through Fusebox,
// and reports time to first content event (TTFT) p50/p99 of both, their difference ("added TTFT"), whether every
// stream arrived intact (every content event, in order, then [DONE], then a clean end), and Fusebox's RSS.
//
// Modes: "burst" sends all N requests at once (after every connection is open); "ramp" spreads the N request
// starts evenly over --ramp-ms, so every stream is still open at the same time (a stream lasts
// streamEvents × eventInterval) but the proxy is not asked to accept them all in the same millisecond.
//
// Clients: Boost.Beast on one io_context run by one thread; no thread per stream. TTFT is measured per stream
// from the moment its request write is issued (the TCP connection is already open) to the arrival of the bytes
// that complete its first content-bearing event.
//
// Rounds (--rounds N): the modes run N times over, interleaved (burst, ramp, burst, ramp, ...), each round's
// phases in the same order; every figure is the median of its rounds' values, so one round that the machine's
// other work took does not decide it. The table lists every round.
//
// Figures, never a pass/fail on timing. Exit status: 0 when the run completed (targets met or not), 1 when a
// stream arrived broken (a correctness failure), 2 for a setup error.
#include "ChildProcess.h"
#include "StreamClient.h"
#include "sim/SimProvider.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using bench::StreamClient;
using bench::StreamResult;
namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::duration;
using std::chrono::milliseconds;

// ---- Options ----------------------------------------------------------------------------------------------

struct Args {
    std::string fusebox;        // path to the fusebox executable
    int streams = 1000;         // concurrent streams per phase
    int events = 20;            // sim: content events per stream
    int intervalMs = 50;        // sim: time before each content event
    int rampMs = 500;           // "ramp" mode: request starts spread over this long
    int ioThreads = 0;          // fusebox io_threads (0: one per core)
    int timeoutS = 60;          // a phase that has not finished by then is cut short
    int rounds = 1;             // every mode this many times, interleaved; the figures are medians over rounds
    std::string modes = "burst,ramp";
    std::string fuseboxLog;     // fusebox's stderr; empty: a file in the temp dir, removed at the end
    std::string nginx;          // path to nginx: also relay the same streams through it, as a reference
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "stream_load: %s\n"
                 "usage: stream_load --fusebox PATH [--streams N] [--events N] [--interval-ms MS] [--ramp-ms MS]\n"
                 "                   [--io-threads N] [--timeout-s S] [--modes burst,ramp] [--fusebox-log FILE]\n"
                 "                   [--nginx PATH] [--rounds N]\n",
                 why);
    std::exit(2);
}

Args parseArgs(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value for " + flag).c_str());
            return argv[++i];
        };
        auto number = [&]() {
            const std::string v = value();
            char* end = nullptr;
            const long n = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end || n < 0 || n > 1000000) usage(("bad number for " + flag + ": " + v).c_str());
            return static_cast<int>(n);
        };
        if (flag == "--fusebox") a.fusebox = value();
        else if (flag == "--streams") a.streams = number();
        else if (flag == "--events") a.events = number();
        else if (flag == "--interval-ms") a.intervalMs = number();
        else if (flag == "--ramp-ms") a.rampMs = number();
        else if (flag == "--io-threads") a.ioThreads = number();
        else if (flag == "--timeout-s") a.timeoutS = number();
        else if (flag == "--modes") a.modes = value();
        else if (flag == "--fusebox-log") a.fuseboxLog = value();
        else if (flag == "--nginx") a.nginx = value();
        else if (flag == "--rounds") a.rounds = number();
        else if (flag == "--help" || flag == "-h") usage("help");
        else usage(("unknown argument " + flag).c_str());
    }
    if (a.fusebox.empty()) usage("--fusebox PATH is required");
    if (a.streams < 1 || a.events < 1 || a.rounds < 1) usage("--streams, --events and --rounds must be at least 1");
    return a;
}

// ---- One phase: N streams against one endpoint ------------------------------------------------------------

struct PhaseResult {
    std::string name;
    int streams = 0;
    int connected = 0;
    int intact = 0;
    std::vector<double> ttft; // ms, intact streams only
    double wallS = 0;         // first send to last end
    long peakRssKb = -1;      // fusebox phases
    double proxyCpuS = 0;     // the proxy's CPU time (user + system) during the phase: Fusebox, or nginx's processes
    double selfCpuS = 0;      // this process's (clients and sim) during the phase
    int peakOpen = 0;         // most streams in flight at once (request sent, answer not yet ended)
    uint64_t simConnections = 0; // connections the sim accepted during the phase
    std::string firstFailure;
    int content = 0, done = 0, clean = 0, non200 = 0;
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string chatRequest(uint16_t port, const std::string& path, int maxTokens) {
    nlohmann::json body = {{"model", "sim-1"},
                           {"stream", true},
                           {"messages", {{{"role", "user"}, {"content", "Tell me something in twenty words."}}}}};
    if (maxTokens > 0) body["max_tokens"] = maxTokens;
    const std::string text = body.dump();
    return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
           "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nAuthorization: Bearer bench"
           "\r\nContent-Length: " +
           std::to_string(text.size()) + "\r\n\r\n" + text;
}

PhaseResult runPhase(const std::string& name, uint16_t port, const std::string& path, int streams, int events,
                     int maxTokens, int rampMs, int timeoutS, const std::function<double()>& proxyCpu) {
    const double proxyCpu0 = proxyCpu(), selfCpu0 = bench::selfCpuSeconds();
    net::io_context io(1);
    const tcp::endpoint to(net::ip::make_address("127.0.0.1"), port);
    const std::string request = chatRequest(port, path, maxTokens);
    std::vector<std::shared_ptr<StreamClient>> clients;
    std::vector<std::unique_ptr<net::steady_timer>> starts;
    int connected = 0, finished = 0, open = 0, peakOpen = 0;
    Clock::time_point firstSend{}, lastEnd{};
    net::steady_timer deadline(io);

    auto startAll = [&] {
        firstSend = Clock::now();
        if (rampMs <= 0) {
            for (auto& c : clients) c->send();
            return;
        }
        for (int i = 0; i < streams; ++i) {
            auto timer = std::make_unique<net::steady_timer>(io);
            timer->expires_at(firstSend + std::chrono::microseconds(static_cast<int64_t>(rampMs) * 1000 * i / streams));
            timer->async_wait([&, i](beast::error_code ec) {
                if (!ec) clients[static_cast<std::size_t>(i)]->send();
            });
            starts.push_back(std::move(timer));
        }
    };
    for (int i = 0; i < streams; ++i) {
        clients.push_back(std::make_shared<StreamClient>(
            io, to, request, events,
            [&] {
                if (++connected == streams) startAll(); // every connection open (or failed): go
            },
            [&] { peakOpen = std::max(peakOpen, ++open); },
            [&] {
                --open;
                if (++finished == streams) {
                    lastEnd = Clock::now();
                    deadline.cancel();
                }
            }));
    }
    for (auto& c : clients) c->connect();
    deadline.expires_after(std::chrono::seconds(timeoutS));
    deadline.async_wait([&](beast::error_code ec) {
        if (ec) return;
        for (auto& c : clients) c->abort();
        for (auto& t : starts) t->cancel();
    });
    io.run();
    if (lastEnd == Clock::time_point{}) lastEnd = Clock::now();

    PhaseResult r;
    r.proxyCpuS = proxyCpu() - proxyCpu0;
    r.peakOpen = peakOpen;
    r.selfCpuS = bench::selfCpuSeconds() - selfCpu0;
    r.name = name;
    r.streams = streams;
    r.wallS = duration<double>(lastEnd - firstSend).count();
    for (const auto& c : clients) {
        const StreamResult& s = c->result();
        r.connected += s.connected;
        r.content += s.content;
        r.done += s.sawDone;
        r.clean += s.cleanEnd;
        r.non200 += s.connected && s.status != 200;
        if (s.intact(events)) {
            ++r.intact;
            r.ttft.push_back(s.ttftMs());
        } else if (r.firstFailure.empty()) {
            std::ostringstream why;
            why << "status " << s.status << ", " << s.content << "/" << events << " content events"
                << (s.inOrder ? "" : ", out of order") << (s.sawDone ? ", [DONE]" : ", no [DONE]")
                << (s.afterDone ? ", data after [DONE]" : "") << (s.errorEvent ? ", error event" : "")
                << (s.cleanEnd ? ", clean end" : ", no clean end") << (s.error.empty() ? "" : ", " + s.error)
                << (s.errorBody.empty() ? "" : ", body: " + s.errorBody);
            r.firstFailure = why.str();
        }
    }
    return r;
}

// ---- Report -----------------------------------------------------------------------------------------------

std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

std::string mb(long kb) { return kb < 0 ? "n/a" : fmt("%.1f MB", static_cast<double>(kb) / 1024.0); }

bool raiseFdLimit(rlim_t want, std::string& note) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= want) return true;
    rlimit raised = rl;
    raised.rlim_cur = std::min(want, rl.rlim_max);
    setrlimit(RLIMIT_NOFILE, &raised);
    getrlimit(RLIMIT_NOFILE, &rl);
    note = "open-file limit " + std::to_string(rl.rlim_cur) + " (wanted " + std::to_string(want) + ")";
    return rl.rlim_cur >= want;
}

} // namespace

int main(int argc, char** argv) {
    const Args args = parseArgs(argc, argv);
    signal(SIGPIPE, SIG_IGN);

    // Our side holds N client sockets plus, in the direct phase, the sim's N; Fusebox (which inherits this
    // limit) holds N client sockets plus N upstream ones.
    std::string fdNote;
    const rlim_t fdsNeeded = static_cast<rlim_t>(args.streams) * 2 + 256;
    if (!raiseFdLimit(fdsNeeded, fdNote)) {
        std::fprintf(stderr, "stream_load: %s: raise `ulimit -n` (scripts/bench does)\n", fdNote.c_str());
        return 2;
    }

    fusebox::sim::Options simOptions;
    simOptions.eventInterval = milliseconds(args.intervalMs);
    simOptions.streamEvents = args.events;
    simOptions.threads = 1;
    fusebox::sim::SimProvider sim(simOptions);
    if (!sim.start()) {
        std::fprintf(stderr, "stream_load: the sim cannot start: %s\n", sim.lastError().c_str());
        return 2;
    }

    char dirTemplate[] = "/tmp/fusebox-stream-XXXXXX";
    if (!mkdtemp(dirTemplate)) {
        std::perror("stream_load: mkdtemp");
        return 2;
    }
    const std::string dir = dirTemplate;
    const std::string configPath = dir + "/config.json";
    {
        nlohmann::json config = {
            {"data_dir", dir + "/data"},
            {"io_threads", args.ioThreads},
            {"providers",
             {{{"id", "sim"}, {"kind", "openai"}, {"base_url", sim.openaiBaseUrl()}, {"api_key", "bench-key"}}}},
            {"routes", {{{"name", "default"}, {"targets", {{{"provider", "sim"}}}}}}}};
        std::ofstream(configPath) << config.dump(2) << "\n";
    }
    const std::string logPath = args.fuseboxLog.empty() ? dir + "/fusebox.log" : args.fuseboxLog;
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const int proxyThreads = args.ioThreads > 0 ? args.ioThreads : static_cast<int>(cores);

    bench::Child fbx, ngx;
    std::string error;
    auto fail = [&](const std::string& why) {
        std::fprintf(stderr, "stream_load: %s\n", why.c_str());
        std::ifstream log(logPath);
        std::cerr << log.rdbuf();
        bench::stopChild(fbx);
        bench::stopChild(ngx);
        std::filesystem::remove_all(dir);
        return 2;
    };
    if (!bench::spawnFusebox(args.fusebox, configPath, logPath, fbx, error)) return fail(error);
    // nginx with as many workers as Fusebox has I/O threads: the same share of the cores.
    if (!args.nginx.empty() && !bench::spawnNginx(args.nginx, dir, sim.port(), proxyThreads, ngx, error))
        return fail(error);
    const std::string path = "/v1/chat/completions";
    const uint16_t simPort = sim.port();
    const auto fuseboxCpu = [&] { return bench::procCpuSeconds(fbx.pid); };
    const auto nginxCpu = [&] { return ngx.pid > 0 ? bench::treeCpuSeconds(ngx.pid) : 0.0; };
    const auto noCpu = [] { return 0.0; };

    struct ModeResults {
        std::string name;
        int round = 1;
        PhaseResult direct, fusebox;
        std::optional<PhaseResult> nginx;
    };
    std::vector<ModeResults> results;
    long idleRssKb = 0, peakRssKb = 0;
    int peakFds = 0;
    {
        bench::RssSampler sampler(fbx.pid);
        // Warm-up, not measured: first connections, lazy initialisation, page faults. Short streams (max_tokens).
        runPhase("warm-up", simPort, path, 20, 2, 2, 0, 10, noCpu);
        runPhase("warm-up", fbx.port, path, 20, 2, 2, 0, 10, noCpu);
        if (ngx.pid > 0) runPhase("warm-up", ngx.port, path, 20, 2, 2, 0, 10, noCpu);
        std::this_thread::sleep_for(milliseconds(200));
        idleRssKb = bench::procStatusKb(fbx.pid, "VmRSS");
        sampler.resetPeak();

        std::vector<std::string> modeList;
        std::stringstream modes(args.modes);
        for (std::string mode; std::getline(modes, mode, ',');) {
            if (mode != "burst" && mode != "ramp") usage(("unknown mode " + mode).c_str());
            modeList.push_back(mode);
        }
        for (int round = 1; round <= args.rounds; ++round) {
            for (const std::string& mode : modeList) {
                const int ramp = mode == "ramp" ? args.rampMs : 0;
                ModeResults m;
                m.round = round;
                m.name = mode == "ramp" ? "ramp (starts over " + std::to_string(args.rampMs) + " ms)"
                                        : "burst (all at once)";
                uint64_t accepted0 = sim.stats().connectionsAccepted;
                m.direct = runPhase("direct", simPort, path, args.streams, args.events, 0, ramp, args.timeoutS, noCpu);
                m.direct.simConnections = sim.stats().connectionsAccepted - accepted0;
                std::this_thread::sleep_for(milliseconds(300)); // let the sockets of the phase before close

                accepted0 = sim.stats().connectionsAccepted;
                sampler.resetPeak();
                std::atomic<bool> sampling{true};
                std::atomic<int> fds{0};
                std::thread fdWatch([&] {
                    while (sampling) {
                        fds = std::max(fds.load(), bench::openFdCount(fbx.pid));
                        std::this_thread::sleep_for(milliseconds(50));
                    }
                });
                m.fusebox =
                    runPhase("fusebox", fbx.port, path, args.streams, args.events, 0, ramp, args.timeoutS, fuseboxCpu);
                sampling = false;
                fdWatch.join();
                m.fusebox.simConnections = sim.stats().connectionsAccepted - accepted0;
                m.fusebox.peakRssKb = sampler.resetPeak();
                peakRssKb = std::max(peakRssKb, m.fusebox.peakRssKb);
                peakFds = std::max(peakFds, fds.load());

                if (ngx.pid > 0) {
                    std::this_thread::sleep_for(milliseconds(300));
                    accepted0 = sim.stats().connectionsAccepted;
                    m.nginx = runPhase("nginx", ngx.port, path, args.streams, args.events, 0, ramp, args.timeoutS,
                                       nginxCpu);
                    m.nginx->simConnections = sim.stats().connectionsAccepted - accepted0;
                }
                results.push_back(std::move(m));
                std::this_thread::sleep_for(milliseconds(300));
            }
        }
    }
    const long hwmKb = bench::procStatusKb(fbx.pid, "VmHWM");
    const long endRssKb = bench::procStatusKb(fbx.pid, "VmRSS");
    bench::stopChild(fbx);
    bench::stopChild(ngx);
    const fusebox::sim::Stats simStats = sim.stats();
    sim.stop();

    // ---- The table --------------------------------------------------------------------------------------
    std::printf("== stream: %d concurrent SSE streams (sim: %d content events, %d ms apart), "
                "POST /v1/chat/completions \"stream\":true\n",
                args.streams, args.events, args.intervalMs);
    std::printf("   fusebox --headless, io_threads %d%s; load generator: 1 io_context thread (Beast), sim in its "
                "process on 1 thread; %u cores shared by all\n",
                args.ioThreads, args.ioThreads == 0 ? (" (one per core = " + std::to_string(cores) + ")").c_str() : "",
                cores);
    if (ngx.port != 0)
        std::printf("   reference: nginx, %d worker(s), proxy_pass to the sim with proxy_buffering off and keep-alive "
                    "upstream connections (a plain relay, no routing, breaker or accounting)\n",
                    proxyThreads);
    std::printf("   load average at the end: %s (other work on this machine competes for the same cores)\n",
                bench::loadAverage().c_str());
    std::printf("   TTFT: request written (connection already open) -> first content event read; "
                "added TTFT = via the proxy - direct, same run\n");
    std::printf("   peak open: streams in flight at once; new conns: connections the sim accepted (via a proxy: "
                "upstream connections it opened rather than reused)\n\n");

    bool allIntact = true;
    // (the mode column as wide as its longest label: "ramp (starts over 500 ms), round 3")
    const int modeWidth = args.rounds > 1 ? 36 : 26;
    std::printf("%-*s %-8s %7s %7s %6s %6s %10s %10s %7s %8s %8s\n", modeWidth, "mode", "path", "streams", "intact",
                "peak", "new", "TTFT p50", "TTFT p99", "wall", "proxy", "loadgen");
    std::printf("%-*s %-8s %7s %7s %6s %6s %10s %10s %7s %8s %8s\n", modeWidth, "", "", "", "", "open", "conns", "",
                "", "", "CPU", "CPU");
    auto phases = [](const ModeResults& m) {
        std::vector<const PhaseResult*> list{&m.direct, &m.fusebox};
        if (m.nginx) list.push_back(&*m.nginx);
        return list;
    };
    for (const auto& m : results) {
        const std::string label = args.rounds > 1 ? m.name + ", round " + std::to_string(m.round) : m.name;
        for (const PhaseResult* r : phases(m)) {
            std::printf("%-*s %-8s %7d %7d %6d %6llu %10s %10s %7s %8s %8s\n", modeWidth,
                        r == &m.direct ? label.c_str() : "", r->name.c_str(), r->streams, r->intact, r->peakOpen,
                        static_cast<unsigned long long>(r->simConnections),
                        fmt("%.2f ms", percentile(r->ttft, 50)).c_str(), fmt("%.2f ms", percentile(r->ttft, 99)).c_str(),
                        fmt("%.2f s", r->wallS).c_str(),
                        r == &m.direct ? "-" : fmt("%.2f s", r->proxyCpuS).c_str(), fmt("%.2f s", r->selfCpuS).c_str());
            allIntact = allIntact && r->intact == r->streams;
        }
    }
    std::printf("\n%-52s %12s   %s\n", "figure",
                args.rounds > 1 ? ("median of " + std::to_string(args.rounds)).c_str() : "value", "target");
    // The modes in the order they ran, each with its rounds.
    std::vector<std::vector<const ModeResults*>> byMode;
    for (const auto& m : results) {
        auto same =
            std::find_if(byMode.begin(), byMode.end(), [&](const auto& g) { return g.front()->name == m.name; });
        if (same == byMode.end()) byMode.push_back({&m});
        else same->push_back(&m);
    }
    // A figure's median over a mode's rounds (rounds without it, e.g. no nginx, are left out).
    auto median = [](const std::vector<const ModeResults*>& rounds,
                     const std::function<std::optional<double>(const ModeResults&)>& figure) {
        std::vector<double> values;
        for (const ModeResults* m : rounds)
            if (const auto v = figure(*m)) values.push_back(*v);
        return percentile(values, 50);
    };
    auto added = [](const PhaseResult& via, const PhaseResult& direct, double p) {
        return percentile(via.ttft, p) - percentile(direct.ttft, p);
    };
    auto perStream = [](const PhaseResult& r) { return r.proxyCpuS / std::max(1, r.streams); };
    for (const auto& rounds : byMode) {
        const std::string& name = rounds.front()->name;
        const bool nginx = rounds.front()->nginx.has_value();
        const double addedP99 = median(rounds, [&](const ModeResults& m) { return added(m.fusebox, m.direct, 99); });
        const double addedP50 = median(rounds, [&](const ModeResults& m) { return added(m.fusebox, m.direct, 50); });
        std::printf("%-52s %12s\n", ("added TTFT p50, " + name).c_str(), fmt("%+.2f ms", addedP50).c_str());
        std::printf("%-52s %12s   <= 1 ms  %s\n", ("added TTFT p99, " + name).c_str(),
                    fmt("%+.2f ms", addedP99).c_str(), addedP99 <= 1.0 ? "met" : "MISSED");
        if (nginx) {
            for (const double p : {50.0, 99.0})
                std::printf("%-52s %12s\n", ("  nginx's added TTFT p" + std::to_string(int(p)) + ", " + name).c_str(),
                            fmt("%+.2f ms", median(rounds, [&](const ModeResults& m) -> std::optional<double> {
                                    if (!m.nginx) return std::nullopt;
                                    return added(*m.nginx, m.direct, p);
                                })).c_str());
        }
    }
    for (const auto& rounds : byMode) {
        const std::string& name = rounds.front()->name;
        const double fuseboxPer = median(rounds, [&](const ModeResults& m) { return perStream(m.fusebox); });
        std::printf("%-52s %12s\n", ("fusebox CPU per stream, " + name).c_str(),
                    fmt("%.3f ms", fuseboxPer * 1000.0).c_str());
        if (!rounds.front()->nginx) continue;
        const double nginxPer = median(rounds, [&](const ModeResults& m) -> std::optional<double> {
            if (!m.nginx) return std::nullopt;
            return perStream(*m.nginx);
        });
        std::printf("%-52s %12s\n", ("  nginx CPU per stream, " + name).c_str(),
                    fmt("%.3f ms", nginxPer * 1000.0).c_str());
        // Per stream, so a phase that lost a stream is not flattered (issue 14: at most 1.2x nginx's); the ratio of
        // the two medians, each round's own ratio beside it.
        if (nginxPer <= 0) continue;
        const double ratio = fuseboxPer / nginxPer;
        std::string each;
        for (const ModeResults* m : rounds)
            if (m->nginx && perStream(*m->nginx) > 0)
                each += (each.empty() ? "" : ", ") + fmt("%.2f", perStream(m->fusebox) / perStream(*m->nginx));
        std::printf("%-52s %12s   <= 1.20  %s%s\n", ("  fusebox / nginx CPU per stream, " + name).c_str(),
                    fmt("%.2f", ratio).c_str(), ratio <= 1.2 ? "met" : "MISSED",
                    rounds.size() > 1 ? ("   (rounds: " + each + ")").c_str() : "");
    }
    int totalStreams = 0, totalIntact = 0;
    for (const auto& m : results)
        for (const PhaseResult* r : phases(m)) {
            totalStreams += r->streams;
            totalIntact += r->intact;
        }
    std::printf("%-52s %12s   all      %s\n", "streams complete and intact (20 events, in order, [DONE])",
                (std::to_string(totalIntact) + "/" + std::to_string(totalStreams)).c_str(),
                allIntact ? "met" : "MISSED");
    std::printf("%-52s %12s   <= 150 MB %s\n", "fusebox peak RSS during the streams (VmRSS, 5 ms samples)",
                mb(peakRssKb).c_str(), peakRssKb >= 0 && peakRssKb <= 150 * 1024 ? "met" : "MISSED");
    std::printf("%-52s %12s\n", "fusebox VmHWM at the end (peak since start)", mb(hwmKb).c_str());
    std::printf("%-52s %12s\n", "fusebox RSS idle after warm-up / at the end",
                (mb(idleRssKb) + " / " + mb(endRssKb)).c_str());
    std::printf("%-52s %12d\n", "fusebox open fds, peak (50 ms samples)", peakFds);
    std::printf("%-52s %12s\n", "sim: streams started / completed / aborted",
                (std::to_string(simStats.streamsStarted) + "/" + std::to_string(simStats.streamsCompleted) + "/" +
                 std::to_string(simStats.streamsAborted))
                    .c_str());
    if (!allIntact) {
        std::printf("\n!!! NOT EVERY STREAM ARRIVED INTACT !!!\n");
        for (const auto& m : results)
            for (const PhaseResult* r : phases(m))
                if (r->intact != r->streams)
                    std::printf("!!! %s, round %d, via %s: %d of %d intact (connected %d, non-200 %d, [DONE] %d, "
                                "clean end %d); first failure: %s\n",
                                m.name.c_str(), m.round, r->name.c_str(), r->intact, r->streams, r->connected, r->non200,
                                r->done, r->clean, r->firstFailure.c_str());
        std::printf("    fusebox log: %s\n", logPath.c_str());
    }
    std::fflush(stdout);
    // A broken run keeps its temp dir (fusebox's log and config) for reading.
    if (allIntact || !args.fuseboxLog.empty()) std::filesystem::remove_all(dir);
    return allIntact ? 0 : 1;
}
