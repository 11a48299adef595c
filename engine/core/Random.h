#pragma once
// Randomness (the jitter of open periods) is injected like time, so tests can pin it.
#include <mutex>
#include <random>

namespace fusebox {

class Random {
public:
    virtual ~Random() = default;
    // A number in [lo, hi].
    virtual double uniform(double lo, double hi) = 0;
};

// Only used on breaker transitions, which are rare, so a mutex is cheap enough.
class SystemRandom final : public Random {
public:
    SystemRandom() : m_engine(std::random_device{}()) {}
    double uniform(double lo, double hi) override {
        std::lock_guard lock(m_mutex);
        return std::uniform_real_distribution<double>(lo, hi)(m_engine);
    }
    static SystemRandom& instance() {
        static SystemRandom random;
        return random;
    }

private:
    std::mutex m_mutex;
    std::mt19937_64 m_engine;
};

} // namespace fusebox
