#pragma once
// The simdjson parser of the calling thread, for the request path's quick passes (SimdJsonDom, StrictJsonScan).
// Internal to those: it brings simdjson's large header with it.
#include <simdjson.h>

#include <cstddef>

namespace fusebox {

// The thread's parser for a text of `bytes`, refusing documents nested deeper than kMaxJsonDepth; its buffers are
// kept between calls. Null for a text over 256 KiB: simdjson's buffers take a few times a text's size, which the
// request memory budget does not count, so large texts stay with nlohmann's parsers (slower, but bounded as
// before). Null too when the buffers cannot be had.
simdjson::dom::parser* simdjsonParserFor(std::size_t bytes);

} // namespace fusebox
