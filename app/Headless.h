#pragma once
namespace fusebox {
class Engine;
}

// Blocks SIGINT and SIGTERM for this thread and every thread started after it; call first thing in main().
void blockStopSignals();
// Runs until SIGINT or SIGTERM, then drains the engine (up to 10 s). Returns the exit status.
int runHeadless(fusebox::Engine& engine);
