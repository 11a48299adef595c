#pragma once
// Reading JSON that a client or a provider sent. Nothing here throws, whatever the bytes: nlohmann's own
// accessors (value(), get<T>(), operator[] on the wrong type) throw type_error, and one uncaught throw on an I/O
// thread ends the process with every agent's streams. So untrusted JSON is
//   - parsed only after a depth check (the serializer, copies and comparisons recurse; 100,000 nested arrays in a
//     200 KB body overflow the stack), and
//   - read through JsonReader, which treats null as absent and records the first field of the wrong type with its
//     path ("messages[2].role must be a string, not a number"), for a 400 to a client or a bad_response for a
//     provider.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fusebox {

// The deepest nesting of arrays and objects accepted in a body or an event (README "Limits").
inline constexpr int kMaxJsonDepth = 128;

// What one pass over the bytes tells of a JSON text before it is parsed (strings and their escapes skipped;
// nothing else is validated): how deep it nests (counted up to `depthLimit` + 1) and how many values it holds.
struct JsonShape {
    int depth = 0;
    std::size_t commas = 0;
    std::size_t colons = 0;
    std::size_t bytes = 0;
    bool deeperThan(int limit) const { return depth > limit; }
    // A rough upper bound of what nlohmann's DOM of it takes: 16 bytes a value, a map node and key per member,
    // plus vector growth. Used to budget memory before parsing, not to be exact.
    int64_t estimatedDomBytes() const;
};
JsonShape scanJson(std::string_view text, int depthLimit = kMaxJsonDepth);
inline bool nestedDeeperThan(std::string_view text, int limit = kMaxJsonDepth) {
    return scanJson(text, limit).deeperThan(limit);
}

struct ParsedJson {
    nlohmann::json value;
    std::string error; // empty when parsed
    bool ok() const { return error.empty(); }
};
// Parses untrusted text: an error (never an exception) for invalid JSON, nesting deeper than kMaxJsonDepth, or a
// number out of range.
ParsedJson parseUntrusted(std::string_view text);
// The same, for a text already scanned (e.g. to reserve memory for it first).
ParsedJson parseScanned(std::string_view text, const JsonShape& shape);

// Serializes without throwing: invalid UTF-8 (a clipped message, say) is replaced with U+FFFD. Only for values
// that passed the depth check or were built by us.
std::string dumpJson(const nlohmann::json& value);

// At most `maxBytes` bytes of `text`, never cut inside a UTF-8 sequence; `ellipsis` is appended when clipped.
std::string clipUtf8(std::string_view text, std::size_t maxBytes, std::string_view ellipsis = "...");

// Typed reads that cannot throw. `at` is the path of `object` ("" for the top level), used only in the error.
class JsonReader {
public:
    // The member, or nullptr when `object` is not an object, or the member is absent or null.
    static const nlohmann::json* member(const nlohmann::json& object, std::string_view key);

    std::optional<std::string> string(const nlohmann::json& object, std::string_view key, std::string_view at = {});
    std::optional<bool> boolean(const nlohmann::json& object, std::string_view key, std::string_view at = {});
    std::optional<double> number(const nlohmann::json& object, std::string_view key, std::string_view at = {});
    std::optional<int64_t> integer(const nlohmann::json& object, std::string_view key, std::string_view at = {});
    // nullptr when absent (or of the wrong type, which is then recorded).
    const nlohmann::json* object(const nlohmann::json& object, std::string_view key, std::string_view at = {});
    const nlohmann::json* array(const nlohmann::json& object, std::string_view key, std::string_view at = {});

    // A string member, or `fallback` when absent; a wrong type is recorded and gives the fallback too.
    std::string stringOr(const nlohmann::json& object, std::string_view key, std::string_view fallback,
                         std::string_view at = {});

    // Records that the value at `at` + `key` is not what was expected (the first such error is kept).
    void fail(std::string_view at, std::string_view key, std::string_view expected, const nlohmann::json& got);
    bool failed() const { return !m_error.empty(); }
    // e.g. "'messages[2].role' must be a string, not a number"
    const std::string& error() const { return m_error; }

    static std::string path(std::string_view at, std::string_view key);
    static std::string indexPath(std::string_view at, std::size_t index);

private:
    std::string m_error;
};

// Lenient reads for what we only pass on (never an error): the value when it has the type, else the fallback.
std::string stringOr(const nlohmann::json& object, std::string_view key, std::string_view fallback);
// An integer field (token counts and the like); 0 when absent or not an integer.
int64_t integerField(const nlohmann::json& object, std::string_view key);

} // namespace fusebox
