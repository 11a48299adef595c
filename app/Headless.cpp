#include "Headless.h"

#include "Engine.h"
#include "core/Log.h"

#include <csignal>
#include <cstring>

void blockStopSignals() {
    // Blocked in every thread (threads inherit the mask), then taken synchronously by sigwait: no
    // async-signal-safety puzzles, and no engine thread is ever interrupted by them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int runHeadless(fusebox::Engine& engine) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    int received = 0;
    sigwait(&signals, &received);
    fusebox::Log::info("stopping: draining requests in flight (up to 10 s)", {{"signal", strsignal(received)}});
    engine.stop(std::chrono::seconds(10));
    fusebox::Log::info("stopped");
    return 0;
}
