#pragma once
// Where each key path of a JSON text stands (line, column), and which keys are duplicated. nlohmann's DOM keeps
// no positions and silently keeps the last of two equal keys, so the loader runs this SAX pass over the same
// text to point its errors at the right line.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox {

struct TextPosition {
    int line = 0;
    int column = 0;
};

TextPosition positionAt(std::string_view text, std::size_t offset);

struct JsonPositions {
    std::map<std::string, TextPosition> byPath; // "providers[1].breaker.failure_rate" -> where its key starts
    std::vector<std::pair<std::string, TextPosition>> duplicateKeys;

    // The position of `path`, or of its nearest ancestor that has one.
    TextPosition find(const std::string& path) const;
};

// Only meaningful on text that json::parse accepted.
JsonPositions scanJsonPositions(std::string_view text);

} // namespace fusebox
