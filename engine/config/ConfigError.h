#pragma once
#include <string>
#include <vector>

namespace fusebox {

// One thing wrong with a config: where (file, line, column, key path) and what.
struct ConfigError {
    std::string file;
    int line = 0;   // 1-based; 0 when unknown
    int column = 0; // 1-based; 0 when unknown
    std::string path; // e.g. providers[1].breaker.failure_rate; empty for the whole file
    std::string message;

    // "config.json:12:7: providers[1].breaker.failure_rate: must be between 0 and 1 (got 1.5)"
    std::string format() const;
};

std::string formatErrors(const std::vector<ConfigError>& errors);

} // namespace fusebox
