// sim_server: one SimProvider on loopback as a process of its own, for the end-to-end SDK tests (and for trying
// Fusebox against a provider the config points at by URL).
//
//     sim_server [--interval-ms N] [--events N] [--api-key KEY]
//
// Prints `sim_server: listening on http://127.0.0.1:PORT` (one line, flushed), then serves until stdin closes
// or SIGINT/SIGTERM (exit 0). It reads one command per line on stdin and answers each with one JSON line:
//
//     fault STATUS [RETRY_AFTER]   every request from now on gets STATUS (Retry-After as given, if any)
//     clear                        no fault
//     stats                        {"requests":N,"chat_completions":N,"messages":N,"faults_injected":N,...}
//     requests                     the recent requests: [{"method","target","headers":{name: value}}]
//     reset                        zero the counters and forget the requests
#include "sim/SimProvider.h"

#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

namespace {

using fusebox::sim::Fault;
using fusebox::sim::SimProvider;
using nlohmann::json;

void say(const std::string& line) {
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

int usage(const std::string& why) {
    std::fprintf(stderr, "sim_server: %s\nusage: sim_server [--interval-ms N] [--events N] [--api-key KEY]\n",
                 why.c_str());
    return 2;
}

json ok() { return {{"ok", true}}; }
json fail(const std::string& why) { return {{"ok", false}, {"error", why}}; }

json command(SimProvider& sim, const std::string& line) {
    std::istringstream in(line);
    std::string verb;
    in >> verb;
    if (verb == "fault") {
        int status = 0;
        std::string retryAfter;
        if (!(in >> status) || status < 100 || status > 599) return fail("usage: fault STATUS [RETRY_AFTER]");
        in >> retryAfter;
        sim.setFault(Fault::httpError(status, retryAfter));
        return ok();
    }
    if (verb == "clear") {
        sim.clearFault();
        return ok();
    }
    if (verb == "reset") {
        sim.resetStats();
        return ok();
    }
    if (verb == "stats") {
        const auto s = sim.stats();
        return {{"requests", s.requests},
                {"chat_completions", s.chatCompletions},
                {"messages", s.messages},
                {"faults_injected", s.faultsInjected},
                {"streams_started", s.streamsStarted},
                {"streams_completed", s.streamsCompleted},
                {"streams_aborted", s.streamsAborted}};
    }
    if (verb == "requests") {
        json list = json::array();
        for (const auto& r : sim.recentRequests()) {
            json headers = json::object();
            for (const auto& [name, value] : r.headers) {
                std::string lower = name;
                for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                headers[lower] = value;
            }
            list.push_back({{"method", r.method}, {"target", r.target}, {"headers", std::move(headers)}});
        }
        return list;
    }
    return fail("unknown command: " + line);
}

} // namespace

int main(int argc, char** argv) {
    fusebox::sim::Options options;
    options.eventInterval = fusebox::Millis{5};
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) return usage("missing value for " + std::string(arg));
        const std::string value = argv[++i];
        try {
            if (arg == "--interval-ms") options.eventInterval = fusebox::Millis{std::stoi(value)};
            else if (arg == "--events") options.streamEvents = std::stoi(value);
            else if (arg == "--api-key") options.apiKey = value;
            else return usage("unknown option " + std::string(arg));
        } catch (const std::exception&) {
            return usage("not a number: " + value);
        }
    }

    // Blocked before the provider's threads exist (they inherit the mask), then read through a signalfd.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    sigdelset(&signals, SIGPIPE);
    const int signalFd = signalfd(-1, &signals, SFD_CLOEXEC);
    if (signalFd < 0) {
        std::perror("sim_server: signalfd");
        return 1;
    }

    SimProvider sim(options);
    if (!sim.start()) {
        std::fprintf(stderr, "sim_server: %s\n", sim.lastError().c_str());
        return 1;
    }
    say("sim_server: listening on http://127.0.0.1:" + std::to_string(sim.port()));

    std::string pending;
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signalFd, POLLIN, 0}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents & POLLIN) break; // SIGINT or SIGTERM
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buffer[4096];
            const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break; // stdin closed: whoever started us is gone
            pending.append(buffer, static_cast<std::size_t>(n));
            for (std::size_t end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
                std::string line = pending.substr(0, end);
                pending.erase(0, end + 1);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (line.find_first_not_of(" \t") == std::string::npos) continue;
                say(command(sim, line).dump());
            }
        }
    }
    sim.stop();
    close(signalFd);
    return 0;
}
