#include "config/ConfigWriter.h"

#include "config/JsonPositions.h"
#include "core/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace fusebox {

namespace {

// The byte offset of a (line, column) that positionAt produced: columns count characters, not UTF-8 bytes.
std::optional<std::size_t> offsetOf(std::string_view text, TextPosition pos) {
    int line = 1, column = 1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
        if (line == pos.line && column == pos.column) return i;
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return std::nullopt;
}

std::size_t skipSpace(std::string_view text, std::size_t i) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    return i;
}

// The end (one past) of the JSON string starting at text[i] == '"'.
std::optional<std::size_t> stringEnd(std::string_view text, std::size_t i) {
    for (++i; i < text.size(); ++i) {
        if (text[i] == '\\') ++i;
        else if (text[i] == '"') return i + 1;
    }
    return std::nullopt;
}

// The span [first, last) of the array that is the value of the key whose opening quote is at `keyStart`.
// The text was accepted by the JSON parser, so bracket matching outside strings is exact.
std::optional<std::pair<std::size_t, std::size_t>> arrayValueAfterKey(std::string_view text, std::size_t keyStart) {
    if (keyStart >= text.size() || text[keyStart] != '"') return std::nullopt;
    auto i = stringEnd(text, keyStart);
    if (!i) return std::nullopt;
    std::size_t at = skipSpace(text, *i);
    if (at >= text.size() || text[at] != ':') return std::nullopt;
    at = skipSpace(text, at + 1);
    if (at >= text.size() || text[at] != '[') return std::nullopt;
    int depth = 0;
    for (std::size_t j = at; j < text.size(); ++j) {
        const char c = text[j];
        if (c == '"') {
            auto end = stringEnd(text, j);
            if (!end) return std::nullopt;
            j = *end - 1;
        } else if (c == '[' || c == '{') {
            ++depth;
        } else if ((c == ']' || c == '}') && --depth == 0) {
            return std::make_pair(at, j + 1);
        }
    }
    return std::nullopt;
}

// The new targets in the style of the old array: on one line when it was on one line, else one target per line
// at the indentation its first element had.
std::string formatTargets(std::string_view old, const std::vector<RouteTarget>& targets) {
    std::vector<std::string> items;
    for (const auto& t : targets) {
        std::string item = R"({ "provider": )" + nlohmann::json(t.provider).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (!t.model.empty())
            item += R"(, "model": )" + nlohmann::json(t.model).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        items.push_back(item + " }");
    }
    const auto newline = old.find('\n');
    std::string out = "[";
    if (newline == std::string_view::npos || items.empty()) {
        for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : " ") + items[i];
        return out + (items.empty() ? "]" : " ]");
    }
    std::size_t indentEnd = newline + 1;
    while (indentEnd < old.size() && (old[indentEnd] == ' ' || old[indentEnd] == '\t')) ++indentEnd;
    const std::string indent(old.substr(newline + 1, indentEnd - newline - 1));
    const auto lastNewline = old.rfind('\n');
    std::size_t closeEnd = lastNewline + 1;
    while (closeEnd < old.size() && (old[closeEnd] == ' ' || old[closeEnd] == '\t')) ++closeEnd;
    const std::string closingIndent(old.substr(lastNewline + 1, closeEnd - lastNewline - 1));
    for (std::size_t i = 0; i < items.size(); ++i) out += "\n" + indent + items[i] + (i + 1 < items.size() ? "," : "");
    return out + "\n" + closingIndent + "]";
}

} // namespace

bool writeRouteTargets(const std::string& path, const std::string& route, const std::vector<RouteTarget>& targets,
                       std::string& error) {
    std::string text;
    if (!readFile(path, text, error)) return false;
    const nlohmann::json root = nlohmann::json::parse(text, nullptr, false);
    if (root.is_discarded() || !root.is_object()) {
        error = path + " is no longer valid JSON; not writing to it";
        return false;
    }
    const auto routes = root.find("routes");
    if (routes == root.end() || !routes->is_array()) {
        error = path + " has no routes array";
        return false;
    }
    for (std::size_t index = 0; index < routes->size(); ++index) {
        // Checked by hand: value("name", "") throws when a hand-edited file has a name that is not a string.
        const auto& entry = (*routes)[index];
        if (!entry.is_object()) continue;
        const auto name = entry.find("name");
        if (name == entry.end() || !name->is_string() || name->get_ref<const std::string&>() != route) continue;
        // Only the bytes of this route's "targets" value change: every other line, comment-like spacing and key
        // order of the file the user keeps stays as it was written.
        const JsonPositions positions = scanJsonPositions(text);
        const auto key = positions.byPath.find("routes[" + std::to_string(index) + "].targets");
        const auto start = key == positions.byPath.end() ? std::nullopt : offsetOf(text, key->second);
        const auto span = start ? arrayValueAfterKey(text, *start) : std::nullopt;
        if (!span) {
            error = "route \"" + route + "\" in " + path + " has no targets array to replace; not persisted";
            return false;
        }
        const std::string replaced = text.substr(0, span->first) +
                                     formatTargets(std::string_view(text).substr(span->first, span->second - span->first), targets) +
                                     text.substr(span->second);
        return writeFileAtomically(path, replaced, error);
    }
    error = "route \"" + route + "\" is not in " + path + " (it may come from --demo); not persisted";
    return false;
}

} // namespace fusebox
