#include "core/SimdJsonParser.h"

#include "core/UntrustedJson.h"

#include <algorithm>

namespace fusebox {

namespace {

constexpr std::size_t kReusedParserBytes = 256 * 1024;

} // namespace

simdjson::dom::parser* simdjsonParserFor(std::size_t bytes, simdjson::dom::parser& own) {
    thread_local simdjson::dom::parser reused;
    simdjson::dom::parser& parser = bytes <= kReusedParserBytes ? reused : own;
    // The depth limit stays with the parser's capacity as it grows.
    if (parser.max_depth() != static_cast<std::size_t>(kMaxJsonDepth) &&
        parser.allocate(std::max<std::size_t>(bytes, 1024), kMaxJsonDepth) != simdjson::SUCCESS)
        return nullptr;
    return &parser;
}

} // namespace fusebox
