#pragma once
// A quick pass over a small JSON text (a stream event) that reports its structure to a SAX-style sink, for the hot
// path of reading every relayed event. nlohmann's SAX parser costs about 25 ns a byte (its lexer reads through an
// input adapter one character at a time and copies every key and string); simdjson validates the text and builds
// its tape in a fraction of that, and the tape is then walked for the sink.
//
// It calls valid only what nlohmann's parser accepts too (core/SimdJsonDom.h says what was checked), nested at
// most kMaxJsonDepth deep, and calls the sink in the same order with the same values nlohmann's SAX parser would
// (keys unescaped); what simdjson refuses is Unsure, and the caller runs nlohmann's parser instead (its verdict
// and error message are the ones that count). A sink that returns false stops the pass (Stopped), as nlohmann's
// sax_parse stops and returns false.
#include <cstddef>
#include <string_view>

namespace fusebox {

enum class StrictScan { Valid, Stopped, Unsure };

// What the pass reports, in document order. Numbers and strings are reported without their values: the stream
// readers need to know only whether a string is empty.
class JsonEventSink {
  public:
    virtual bool null() = 0;
    virtual bool boolean(bool value) = 0;
    virtual bool number() = 0;
    virtual bool text(bool nonEmpty) = 0;
    virtual bool name(std::string_view name) = 0;
    // (The count is std::size_t(-1), unknown, as nlohmann passes it.)
    virtual bool start_object(std::size_t elements) = 0;
    virtual bool start_array(std::size_t elements) = 0;
    virtual bool end_object() = 0;
    virtual bool end_array() = 0;

  protected:
    ~JsonEventSink() = default;
};

StrictScan scanStrictJson(std::string_view text, JsonEventSink& sink);

// nlohmann's SAX parser on the same sink (numbers and strings reported as the quick pass reports them): the
// fallback for what the quick pass is unsure of. False when the text is not valid JSON or the sink stopped.
bool saxParseWithNlohmann(std::string_view text, JsonEventSink& sink);

// The quick pass, and nlohmann's for what it is unsure of (the sink has had no call then: simdjson validates the
// whole text before the walk). False when the text is not valid JSON or the sink stopped.
bool readJsonEvents(std::string_view text, JsonEventSink& sink);

} // namespace fusebox
