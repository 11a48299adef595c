// The breaker sits on the hot path of every request. Targets (issue 2): ≤ 100 ns per acquire + complete on a
// closed breaker, uncontended; ≤ 50 ns per refusal on an open breaker. Real clock, real atomics.
#include "breaker/CircuitBreaker.h"

#include <benchmark/benchmark.h>

namespace {

using namespace fusebox;

BreakerPolicy quietPolicy() {
    BreakerPolicy policy;
    policy.consecutiveFailures = 0;
    policy.failureRate = 0;
    policy.slowCallRate = 0;
    return policy;
}

void BM_AcquireComplete_Closed(benchmark::State& state) {
    static CircuitBreaker* breaker = nullptr;
    if (state.thread_index() == 0)
        breaker = new CircuitBreaker("bench", quietPolicy(), SystemClock::instance(), SystemRandom::instance());
    // google-benchmark starts every thread's loop together, after thread 0's setup.
    for (auto _ : state) {
        Admission admission = breaker->tryAcquire();
        breaker->complete(admission.permit, {Outcome::Success, Millis{5}, std::nullopt});
    }
    state.SetItemsProcessed(state.iterations());
    if (state.thread_index() == 0) {
        delete breaker;
        breaker = nullptr;
    }
}
BENCHMARK(BM_AcquireComplete_Closed)->Threads(1)->Threads(2)->UseRealTime();

void BM_Refusal_Open(benchmark::State& state) {
    CircuitBreaker breaker("bench", quietPolicy(), SystemClock::instance(), SystemRandom::instance());
    breaker.forceOpen("benchmark");
    // forced_open refuses without looking at the clock's open period; measure the open-period path too below.
    for (auto _ : state) benchmark::DoNotOptimize(breaker.tryAcquire());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Refusal_Open);

void BM_Refusal_OpenPeriod(benchmark::State& state) {
    BreakerPolicy policy = quietPolicy();
    policy.consecutiveFailures = 1;
    policy.openS = 3600;
    policy.maxOpenS = 3600;
    CircuitBreaker breaker("bench", policy, SystemClock::instance(), SystemRandom::instance());
    Admission first = breaker.tryAcquire();
    breaker.complete(first.permit, {Outcome::ServerError, Millis{1}, std::nullopt});
    if (breaker.state() != BreakerState::Open) state.SkipWithError("breaker did not open");
    for (auto _ : state) benchmark::DoNotOptimize(breaker.tryAcquire());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Refusal_OpenPeriod)->Threads(1)->Threads(2)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
