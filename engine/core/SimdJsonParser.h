#pragma once
// The simdjson parser of the calling thread, for the request path's quick passes (SimdJsonDom, StrictJsonScan).
// Internal to those: it brings simdjson's large header with it.
#include <simdjson.h>

#include <cstddef>

namespace fusebox {

// A parser for a text of `bytes`, refusing documents nested deeper than kMaxJsonDepth. Texts up to 256 KiB share
// the thread's own parser, whose buffers are kept between calls; a larger one gets `own` (allocated here and freed
// with it by the caller), so one huge body does not stay resident. Null when the buffers cannot be had.
simdjson::dom::parser* simdjsonParserFor(std::size_t bytes, simdjson::dom::parser& own);

} // namespace fusebox
