#include "core/StrictJsonScan.h"

#include "core/SimdJsonParser.h"

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

} // namespace

StrictScan scanStrictJson(std::string_view text, JsonEventSink& sink) {
    simdjson::dom::parser own;
    simdjson::dom::parser* parser = simdjsonParserFor(text.size(), own);
    simdjson::dom::element root;
    if (!parser || parser->parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return StrictScan::Unsure;
    return walk(root, sink) ? StrictScan::Valid : StrictScan::Stopped;
}

} // namespace fusebox
