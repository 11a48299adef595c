#include "core/SimdJsonParser.h"

#include "core/UntrustedJson.h"

#include <algorithm>

namespace fusebox {

namespace {

constexpr std::size_t kReusedParserBytes = 256 * 1024;

} // namespace

simdjson::dom::parser* simdjsonParserFor(std::size_t bytes) {
    if (bytes > kReusedParserBytes) return nullptr;
    thread_local simdjson::dom::parser parser;
    // The depth limit stays with the parser's capacity as it grows.
    if (parser.max_depth() != static_cast<std::size_t>(kMaxJsonDepth) &&
        parser.allocate(std::max<std::size_t>(bytes, 4096), kMaxJsonDepth) != simdjson::SUCCESS)
        return nullptr;
    return &parser;
}

} // namespace fusebox
