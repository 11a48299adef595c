#pragma once
namespace fusebox {
class Engine;
}

// Runs the engine with no window until SIGINT or SIGTERM. Returns the exit status.
int runHeadless(fusebox::Engine& engine);
