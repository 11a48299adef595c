#include "spend/PriceTable.h"

#include "PricesText.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>

namespace fusebox {

namespace {

using json = nlohmann::json;

// 1-based line of the first occurrence of `needle` in `text` (the key's place, for the error message).
int lineOf(std::string_view text, std::string_view needle, std::size_t from = 0) {
    const std::size_t at = text.find(needle, from);
    if (at == std::string_view::npos) return 0;
    int line = 1;
    for (std::size_t i = 0; i < at; ++i)
        if (text[i] == '\n') ++line;
    return line;
}

std::string where(const std::string& source, int line) {
    return line > 0 ? source + ":" + std::to_string(line) : source;
}

} // namespace

PriceTable PriceTable::builtIn() {
    PriceTable table;
    table.merge(embedded::kPrices, "built-in prices.json");
    return table;
}

std::optional<std::string> PriceTable::merge(std::string_view text, const std::string& source) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        int line = 1;
        for (std::size_t i = 0; i < e.byte && i < text.size(); ++i)
            if (text[i] == '\n') ++line;
        return where(source, line) + ": not valid JSON: " + e.what();
    } catch (const json::exception& e) {
        // A number no double holds (1e999) is an out_of_range, not a parse_error, and comes without a position.
        return source + ": not valid JSON: " + e.what();
    }
    if (!root.is_object()) return source + ": must be a JSON object with a \"models\" object";
    for (auto it = root.begin(); it != root.end(); ++it)
        if (it.key() != "models" && it.key() != "updated" && it.key() != "note")
            return where(source, lineOf(text, "\"" + it.key() + "\"")) + ": " + it.key() +
                   ": unknown key (expected models, updated, note)";
    auto models = root.find("models");
    if (models == root.end() || !models->is_object())
        return where(source, lineOf(text, "\"models\"")) + ": models: must be an object of model name to price";

    std::map<std::string, ModelPrice, std::less<>> exact, prefix;
    for (auto it = models->begin(); it != models->end(); ++it) {
        const std::string name = it.key();
        const int line = lineOf(text, "\"" + name + "\"", text.find("\"models\""));
        const std::string path = "models.\"" + name + "\"";
        if (name.empty() || name == "*") return where(source, line) + ": " + path + ": a model name is required";
        if (!it->is_object()) return where(source, line) + ": " + path + ": must be an object";
        ModelPrice price;
        bool haveIn = false, haveOut = false;
        for (auto field = it->begin(); field != it->end(); ++field) {
            const std::string key = field.key();
            if (!field->is_number() || field->get<double>() < 0)
                return where(source, line) + ": " + path + "." + key + ": must be a number >= 0";
            const double v = field->get<double>();
            if (key == "input_per_mtok") price.inputPerMtok = v, haveIn = true;
            else if (key == "output_per_mtok") price.outputPerMtok = v, haveOut = true;
            else if (key == "cache_read_per_mtok") price.cacheReadPerMtok = v;
            else if (key == "cache_write_per_mtok") price.cacheWritePerMtok = v;
            else
                return where(source, line) + ": " + path + "." + key +
                       ": unknown key (input_per_mtok, output_per_mtok, cache_read_per_mtok, cache_write_per_mtok)";
        }
        if (!haveIn || !haveOut)
            return where(source, line) + ": " + path + ": input_per_mtok and output_per_mtok are required";
        if (name.back() == '*') prefix[name.substr(0, name.size() - 1)] = price;
        else exact[name] = price;
    }
    for (auto& [k, v] : exact) m_exact[k] = v;
    for (auto& [k, v] : prefix) m_prefix[k] = v;
    m_version = nextVersion(); // what find() remembered of the old contents no longer holds
    return std::nullopt;
}

std::optional<std::string> PriceTable::mergeFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return path + ": cannot be read (prices_file)";
    std::stringstream text;
    text << in.rdbuf();
    return merge(text.str(), path);
}

uint64_t PriceTable::nextVersion() {
    static std::atomic<uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

std::optional<ModelPrice> PriceTable::find(std::string_view model) const {
    if (auto it = m_exact.find(model); it != m_exact.end()) return it->second;
    // The prefix scan covers every prefix, and a model that needs it (a dated name, "gpt-4o-2024-08-06") needs it
    // on each of its requests: the thread remembers its last answer, for this table as it is.
    struct Memo {
        uint64_t version = 0;
        std::string model;
        std::optional<ModelPrice> price;
    };
    thread_local Memo memo;
    if (memo.version == m_version && memo.model == model) return memo.price;
    memo.version = m_version;
    memo.model.assign(model);
    memo.price = longestPrefix(model);
    return memo.price;
}

std::optional<ModelPrice> PriceTable::longestPrefix(std::string_view model) const {
    const ModelPrice* best = nullptr;
    std::size_t bestLength = 0;
    for (const auto& [prefix, price] : m_prefix)
        if (model.starts_with(prefix) && (best == nullptr || prefix.size() > bestLength)) {
            best = &price;
            bestLength = prefix.size();
        }
    if (best == nullptr) return std::nullopt;
    return *best;
}

std::optional<double> PriceTable::cost(std::string_view model, ApiEndpoint endpoint, const Usage& usage) const {
    const auto price = find(model);
    if (!price) return std::nullopt;
    const double readPrice = price->cacheReadPerMtok.value_or(price->inputPerMtok);
    const double writePrice = price->cacheWritePerMtok.value_or(price->inputPerMtok);
    double micro = 0; // USD × 1e6
    if (endpoint == ApiEndpoint::Messages) {
        micro = static_cast<double>(usage.inputTokens) * price->inputPerMtok +
                static_cast<double>(usage.cacheReadTokens) * readPrice +
                static_cast<double>(usage.cacheWriteTokens) * writePrice;
    } else {
        // OpenAI counts cached tokens inside prompt_tokens.
        const int64_t cached = std::min(usage.cacheReadTokens, usage.inputTokens);
        micro = static_cast<double>(usage.inputTokens - cached) * price->inputPerMtok +
                static_cast<double>(cached) * readPrice;
    }
    micro += static_cast<double>(usage.outputTokens) * price->outputPerMtok;
    return micro / 1e6;
}

} // namespace fusebox
