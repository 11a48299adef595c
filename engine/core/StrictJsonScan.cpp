#include "core/StrictJsonScan.h"

#include "core/SimdJsonParser.h"

#include <nlohmann/json.hpp>

namespace fusebox {

namespace {

constexpr std::size_t kUnknownCount = static_cast<std::size_t>(-1);

// Depth is bounded by the parser (kMaxJsonDepth), so the recursion is too.
bool walk(simdjson::dom::element element, JsonEventSink& sink) {
    using Type = simdjson::dom::element_type;
    switch (element.type()) {
    case Type::ARRAY: {
        simdjson::dom::array items;
        if (element.get_array().get(items) != simdjson::SUCCESS || !sink.start_array(kUnknownCount)) return false;
        for (simdjson::dom::element item : items)
            if (!walk(item, sink)) return false;
        return sink.end_array();
    }
    case Type::OBJECT: {
        simdjson::dom::object fields;
        if (element.get_object().get(fields) != simdjson::SUCCESS || !sink.start_object(kUnknownCount)) return false;
        for (simdjson::dom::key_value_pair field : fields)
            if (!sink.name(field.key) || !walk(field.value, sink)) return false;
        return sink.end_object();
    }
    case Type::INT64:
    case Type::UINT64:
    case Type::DOUBLE:
        return sink.number();
    case Type::STRING:
        return sink.text(!element.get_string().value_unsafe().empty());
    case Type::BOOL:
        return sink.boolean(element.get_bool().value_unsafe());
    case Type::NULL_VALUE:
        return sink.null();
    }
    return sink.null();
}

// nlohmann's SAX interface over a sink.
class NlohmannSax {
  public:
    using json = nlohmann::json;
    explicit NlohmannSax(JsonEventSink& sink) : m_sink(sink) {}
    bool null() { return m_sink.null(); }
    bool boolean(bool value) { return m_sink.boolean(value); }
    bool number_integer(json::number_integer_t) { return m_sink.number(); }
    bool number_unsigned(json::number_unsigned_t) { return m_sink.number(); }
    bool number_float(json::number_float_t, const json::string_t&) { return m_sink.number(); }
    bool string(json::string_t& value) { return m_sink.text(!value.empty()); }
    bool binary(json::binary_t&) { return m_sink.number(); } // (never from text)
    bool start_object(std::size_t elements) { return m_sink.start_object(elements); }
    bool start_array(std::size_t elements) { return m_sink.start_array(elements); }
    bool end_object() { return m_sink.end_object(); }
    bool end_array() { return m_sink.end_array(); }
    bool key(json::string_t& name) { return m_sink.name(name); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  private:
    JsonEventSink& m_sink;
};

} // namespace

bool saxParseWithNlohmann(std::string_view text, JsonEventSink& sink) {
    NlohmannSax sax(sink);
    try {
        return nlohmann::json::sax_parse(text, &sax);
    } catch (const std::exception&) { // errors come through parse_error; this is the belt
        return false;
    }
}

bool readJsonEvents(std::string_view text, JsonEventSink& sink) {
    const StrictScan quick = scanStrictJson(text, sink);
    if (quick == StrictScan::Unsure) return saxParseWithNlohmann(text, sink);
    return quick == StrictScan::Valid;
}

StrictScan scanStrictJson(std::string_view text, JsonEventSink& sink) {
    simdjson::dom::parser* parser = simdjsonParserFor(text.size());
    simdjson::dom::element root;
    if (!parser || parser->parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return StrictScan::Unsure;
    return walk(root, sink) ? StrictScan::Valid : StrictScan::Stopped;
}

} // namespace fusebox
