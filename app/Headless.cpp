#include "Headless.h"

#include "Engine.h"

#include <csignal>

int runHeadless(fusebox::Engine& engine) {
    (void)engine;
    // Block the signals in every thread and take them synchronously here: no async-signal-safety puzzles.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    int received = 0;
    sigwait(&signals, &received);
    return 0;
}
