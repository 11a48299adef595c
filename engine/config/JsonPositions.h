#pragma once
// Where each key path of a JSON text stands (line, column), and which keys are duplicated. nlohmann's DOM keeps
// no positions and silently keeps the last of two equal keys, so the loader runs this SAX pass over the same
// text to point its errors at the right line.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fusebox {

struct TextPosition {
    int line = 0;
    int column = 0;
};

TextPosition positionAt(std::string_view text, std::size_t offset);

// Where the parser gave up on a text that is not JSON, and why, in words for a person.
struct JsonSyntaxError {
    TextPosition position;
    std::string message; // "syntax error while parsing value - unexpected ','; ..."
};

struct JsonPositions {
    std::map<std::string, TextPosition> byPath; // "providers[1].breaker.failure_rate" -> where its key starts
    std::vector<std::pair<std::string, TextPosition>> duplicateKeys;
    std::optional<JsonSyntaxError> syntaxError; // set when the text is not JSON; the rest is then partial

    // The position of `path`, or of its nearest ancestor that has one.
    TextPosition find(const std::string& path) const;
};

// Never throws. On a text json::parse would reject (a syntax error, or a number such as 1e999 that no double
// holds, which nlohmann throws as out_of_range, without a position), `syntaxError` says where and why; also on
// one nested more than 64 levels deep, which no config is and which would cost memory with the square of its depth.
JsonPositions scanJsonPositions(std::string_view text);

} // namespace fusebox
