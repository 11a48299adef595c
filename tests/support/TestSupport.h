#pragma once
// Shared pieces of the test suite: pinned randomness, temporary files, paths of the source tree.
#include "config/EnvExpand.h"
#include "core/Random.h"

#include <QTemporaryDir>

#include <map>
#include <string>

namespace fusebox::test {

// Jitter pinned to one value in [-1, 1], settable per test.
class FixedRandom final : public Random {
public:
    explicit FixedRandom(double unit = 0.0) : m_unit(unit) {}
    void set(double unit) { m_unit = unit; }
    double uniform(double lo, double hi) override { return lo + (hi - lo) * (m_unit + 1.0) / 2.0; }

private:
    double m_unit;
};

std::string sourceDir();
std::string writeTempFile(const QTemporaryDir& dir, const std::string& name, const std::string& content);
// A whole file as bytes; "" when it cannot be read.
std::string readFile(const std::string& path);
// An environment that holds exactly these variables (configs in tests never read the real one).
Environment fakeEnv(std::map<std::string, std::string> vars);

} // namespace fusebox::test
