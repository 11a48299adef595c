#pragma once
// Reading a few top-level members of untrusted JSON without building the whole document. The proxy needs
// `model`, `stream` and `stream_options` of a request it passes on as it came, and `usage` of a whole answer it
// relays as it came: building nlohmann's DOM of the rest (every message, every choice) cost more CPU than the
// relay itself. One pass validates the whole text, accepting exactly what parseUntrusted accepts (same depth
// limit, same errors), and only the named members are built, as the full parse would build them. The pass is
// simdjson's (core/SimdJsonDom.h); what it refuses goes through nlohmann's SAX parser, which decides.
#include "core/UntrustedJson.h"

#include <initializer_list>
#include <string_view>

namespace fusebox {

struct JsonMembers {
    // An object holding the named top-level members that are present (the last one wins for a repeated name,
    // as in the full parse), or null when the text is not a JSON object.
    nlohmann::json value;
    bool object = false; // the text is a JSON object
    std::string error;   // empty when the text is valid JSON; else what parseUntrusted would say
    bool ok() const { return error.empty(); }
};

// `shape` is the text's scanJson result (a caller that budgets memory has it already).
JsonMembers readTopLevelMembers(std::string_view text, const JsonShape& shape,
                                std::initializer_list<std::string_view> names);
// The same, for a caller without the shape: simdjson's pass also bounds the depth, so the shape is scanned only
// for a text it refuses.
JsonMembers readTopLevelMembers(std::string_view text, std::initializer_list<std::string_view> names);

} // namespace fusebox
