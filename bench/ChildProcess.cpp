#include "ChildProcess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Fields 4 (ppid), 14 (utime) and 15 (stime) of /proc/PID/stat; false when unreadable.
bool procStat(pid_t pid, pid_t& ppid, double& cpuSeconds) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')'); // the command name may hold spaces
    if (paren == std::string::npos) return false;
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) { // field 3 is the state
        if (i == 4) ppid = static_cast<pid_t>(std::strtol(field.c_str(), nullptr, 10));
        if (i == 14 || i == 15) ticks += std::strtod(field.c_str(), nullptr);
    }
    cpuSeconds = ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    return true;
}

// Forks and execs `argv` with stdout to a pipe (returned in child.stdoutFd) and stderr to `logPath`.
bool spawn(const std::vector<std::string>& argv, const std::string& logPath, Child& child, std::string& error) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    const int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log < 0) {
        error = "cannot open " + logPath + ": " + std::strerror(errno);
        ::close(out[0]);
        ::close(out[1]);
        return false;
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        ::close(out[0]);
        ::close(out[1]);
        ::close(log);
        return false;
    }
    if (pid == 0) { // only async-signal-safe calls from here to exec
        prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the load generator
        dup2(out[1], STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
        execv(args[0], args.data());
        _exit(127);
    }
    ::close(out[1]);
    ::close(log);
    child.pid = pid;
    child.stdoutFd = out[0];
    return true;
}

// A loopback port free at the moment of asking (the kernel picks it).
uint16_t freeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    uint16_t port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    if (fd >= 0) ::close(fd);
    return port;
}

bool accepts(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (fd >= 0) ::close(fd);
    return ok;
}

} // namespace

long procStatusKb(pid_t pid, const char* key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const std::size_t keyLen = std::strlen(key);
    while (std::getline(in, line)) {
        if (line.compare(0, keyLen, key) == 0 && line.size() > keyLen && line[keyLen] == ':')
            return std::strtol(line.c_str() + keyLen + 1, nullptr, 10);
    }
    return -1;
}

double procCpuSeconds(pid_t pid) {
    pid_t ppid = 0;
    double cpu = 0;
    return procStat(pid, ppid, cpu) ? cpu : -1;
}

double treeCpuSeconds(pid_t pid) {
    double total = procCpuSeconds(pid);
    if (total < 0) return -1;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        pid_t ppid = 0;
        double cpu = 0;
        if (procStat(static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10)), ppid, cpu) && ppid == pid)
            total += cpu;
    }
    return total;
}

double selfCpuSeconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string loadAverage() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

int openFdCount(pid_t pid) {
    std::error_code ec;
    int n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return ec ? -1 : n;
}

RssSampler::RssSampler(pid_t pid) : m_pid(pid), m_thread([this] { run(); }) {}

RssSampler::~RssSampler() {
    m_stop = true;
    m_thread.join();
}

void RssSampler::run() {
    while (!m_stop) {
        const long kb = procStatusKb(m_pid, "VmRSS");
        long seen = m_peak.load();
        while (kb > seen && !m_peak.compare_exchange_weak(seen, kb)) {
        }
        std::this_thread::sleep_for(milliseconds(5));
    }
}

bool spawnFusebox(const std::string& exe, const std::string& config, const std::string& logPath, Child& child,
                  std::string& error) {
    if (!spawn({exe, "--headless", "--config", config, "--listen", "127.0.0.1:0"}, logPath, child, error))
        return false;
    // "fusebox: listening on http://HOST:PORT", within 10 s.
    std::string text;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (text.find('\n') == std::string::npos) {
        const int left =
            static_cast<int>(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count());
        if (left <= 0) {
            error = "fusebox did not print its listening line within 10 s (log: " + logPath + ")";
            return false;
        }
        pollfd p{child.stdoutFd, POLLIN, 0};
        if (poll(&p, 1, left) <= 0) continue;
        char buf[512];
        const ssize_t n = ::read(child.stdoutFd, buf, sizeof buf);
        if (n <= 0) {
            error = "fusebox exited before it listened (log: " + logPath + ")";
            return false;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    const std::string marker = "listening on http://";
    const auto at = text.find(marker);
    const auto colon = at == std::string::npos ? std::string::npos : text.rfind(':', text.find('\n', at));
    if (at == std::string::npos || colon == std::string::npos || colon < at + marker.size()) {
        error = "unexpected first line from fusebox: " + text;
        return false;
    }
    child.port = static_cast<uint16_t>(std::strtoul(text.c_str() + colon + 1, nullptr, 10));
    return child.port != 0;
}

bool spawnNginx(const std::string& exe, const std::string& dir, uint16_t upstreamPort, int workers, Child& child,
                std::string& error) {
    chmod(dir.c_str(), 0755); // workers run unprivileged when the master is root
    const uint16_t port = freeLoopbackPort();
    if (port == 0) {
        error = "no free loopback port for nginx";
        return false;
    }
    const std::string conf = dir + "/nginx.conf";
    {
        std::ofstream out(conf);
        out << "daemon off;\nmaster_process on;\nworker_processes " << workers << ";\nworker_rlimit_nofile 16384;\n"
            << "pid " << dir << "/nginx.pid;\nerror_log " << dir << "/nginx-error.log warn;\n"
            << "events { worker_connections 8192; }\nhttp {\n  access_log off;\n";
        for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
            out << "  " << temp << "_temp_path " << dir << "/nginx-" << temp << ";\n";
        out << "  upstream sim { server 127.0.0.1:" << upstreamPort << "; keepalive 1024; }\n"
            << "  server {\n    listen 127.0.0.1:" << port << " backlog=4096;\n    location / {\n"
            << "      proxy_pass http://sim;\n      proxy_http_version 1.1;\n"
            << "      proxy_set_header Connection \"\";\n      proxy_buffering off;\n"
            << "      proxy_read_timeout 60s;\n    }\n  }\n}\n";
    }
    if (!spawn({exe, "-p", dir + "/", "-c", conf, "-e", dir + "/nginx-error.log"}, dir + "/nginx.out", child,
               error))
        return false;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!accepts(port)) {
        int status = 0;
        if (waitpid(child.pid, &status, WNOHANG) == child.pid) {
            child.pid = -1;
            error = "nginx exited before it listened (see " + dir + "/nginx-error.log)";
            return false;
        }
        if (Clock::now() > deadline) {
            error = "nginx did not listen within 10 s";
            return false;
        }
        std::this_thread::sleep_for(milliseconds(20));
    }
    child.port = port;
    return true;
}

void stopChild(Child& child) {
    if (child.pid <= 0) return;
    kill(child.pid, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(12);
    int status = 0;
    while (waitpid(child.pid, &status, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
            kill(child.pid, SIGKILL);
            waitpid(child.pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(milliseconds(20));
    }
    if (child.stdoutFd >= 0) ::close(child.stdoutFd);
    child.pid = -1;
}

} // namespace bench
