#pragma once
// Model prices (USD per million tokens): the built-in table (resources/prices.json, embedded) extended or
// overridden by the config's prices_file. An exact model name wins over a "prefix*" entry; among prefixes the
// longest wins. Immutable once built, so any thread may read it.
#include "providers/Dialect.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace fusebox {

struct ModelPrice {
    double inputPerMtok = 0;
    double outputPerMtok = 0;
    std::optional<double> cacheReadPerMtok;  // unset: cache reads cost the input price
    std::optional<double> cacheWritePerMtok; // unset: cache writes cost the input price
};

class PriceTable {
public:
    // The built-in table alone.
    static PriceTable builtIn();
    // Adds (or replaces) the entries of a prices JSON text. Returns an error naming `source`, the line and the key
    // (e.g. `prices.json:4: models."gpt-4o".input_per_mtok: must be a number >= 0`) and leaves the table unchanged.
    std::optional<std::string> merge(std::string_view text, const std::string& source);
    // Reads and merges a file; the error names the file.
    std::optional<std::string> mergeFile(const std::string& path);

    std::optional<ModelPrice> find(std::string_view model) const;
    // Cost of one attempt's usage, or unset when the model has no price. On the Anthropic Messages endpoint cache
    // tokens are reported apart from input tokens; on OpenAI endpoints cached tokens are part of the input tokens
    // and only their difference in price is applied.
    std::optional<double> cost(std::string_view model, ApiEndpoint endpoint, const Usage& usage) const;
    std::size_t size() const { return m_exact.size() + m_prefix.size(); }

private:
    static uint64_t nextVersion();
    std::optional<ModelPrice> longestPrefix(std::string_view model) const;

    std::map<std::string, ModelPrice, std::less<>> m_exact;
    std::map<std::string, ModelPrice, std::less<>> m_prefix; // key without its '*'
    uint64_t m_version = nextVersion(); // new for each table and each change of one (find's memo); copies share it
};

} // namespace fusebox
