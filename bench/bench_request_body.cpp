// What reading a request body costs the proxy: the whole document (what a translation needs) against the three
// top-level members a pass-through request needs (model, stream, stream_options). Bodies as agents send them: a
// small chat request, and a 40-turn conversation of about 100 KB.
#include "core/JsonMembers.h"
#include "core/UntrustedJson.h"

#include <benchmark/benchmark.h>

namespace {

using namespace fusebox;
using nlohmann::json;

std::string chatBody(int turns) {
    json messages = json::array({json{{"role", "system"}, {"content", "You are terse."}}});
    for (int i = 0; i < turns; ++i) {
        messages.push_back({{"role", "user"}, {"content", std::string(1200, 'q') + " question " + std::to_string(i)}});
        messages.push_back({{"role", "assistant"},
                            {"content", std::string(1200, 'a') + " answer " + std::to_string(i)},
                            {"tool_calls", json::array({json{{"id", "call_" + std::to_string(i)},
                                                             {"type", "function"},
                                                             {"function", {{"name", "read_file"},
                                                                           {"arguments", "{\"path\":\"src/main.cpp\"}"}}}}})}});
    }
    return json{{"model", "bench-model"}, {"messages", messages}, {"stream", true}, {"max_tokens", 256}}.dump();
}

void BM_WholeDocument(benchmark::State& state) {
    const std::string body = chatBody(static_cast<int>(state.range(0)));
    for (auto _ : state) benchmark::DoNotOptimize(parseUntrusted(body));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

void BM_TopLevelMembers(benchmark::State& state) {
    const std::string body = chatBody(static_cast<int>(state.range(0)));
    for (auto _ : state) benchmark::DoNotOptimize(readTopLevelMembers(body, {"model", "stream", "stream_options"}));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

} // namespace

BENCHMARK(BM_WholeDocument)->Arg(0)->Arg(40);
BENCHMARK(BM_TopLevelMembers)->Arg(0)->Arg(40);
BENCHMARK_MAIN();
