#pragma once
// simdjson's DOM as nlohmann's: for the request path, where simdjson validates and reads a document in a
// fraction of nlohmann's time (its lexer cost ~90 instructions a byte, a third of the proxy's user time), and
// nlohmann stays the type the rest of the engine works with.
//
// What simdjson accepts, nlohmann accepts too (checked: surrogates, control characters, number forms, UTF-8);
// simdjson refuses some valid JSON nlohmann takes (a byte-order mark, integers beyond 64 bits): a caller lets
// nlohmann decide those.
#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace fusebox {

class SimdObjectView; // core/SimdObjectView.h

struct SimdTopLevel {
    bool object = false;   // the text is a JSON object
    nlohmann::json members; // the named members present (the last wins for a repeated name); null unless object
};

// Validates `text` in full (nested at most kMaxJsonDepth deep, as parseUntrusted allows) and returns the named top-level members, each value built as nlohmann's parser would
// build it (non-negative integers unsigned, negative ones signed, floats double, objects sorted by key). Nothing
// when simdjson refuses the text: not necessarily invalid JSON, see above.
std::optional<SimdTopLevel> readTopLevelWithSimdjson(std::string_view text,
                                                     std::initializer_list<std::string_view> names);

// For a document only validated and read in a few places (a whole answer relayed as it came): validates `text`
// as readTopLevelWithSimdjson does, and when it is an object whose top-level member `name` is an object (the last
// one, for a repeated name), calls `read` with a view of that member, valid during the call only. Returns whether
// the text is an object; nothing when simdjson refuses the text (as above: let nlohmann decide).
std::optional<bool> readTopLevelObjectMember(std::string_view text, std::string_view name,
                                             const std::function<void(const SimdObjectView&)>& read);

// The whole document, built as nlohmann's parser builds it; nothing when simdjson refuses the text (or it is over
// 256 KiB, see SimdJsonParser.h): not necessarily invalid JSON.
std::optional<nlohmann::json> parseWithSimdjson(std::string_view text);

} // namespace fusebox
