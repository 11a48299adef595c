#include "core/SimdJsonDom.h"

#include "core/SimdJsonParser.h"
#include "core/SimdObjectView.h"

#include <algorithm>
#include <cstdint>

namespace fusebox {

namespace {

using nlohmann::json;

json toNlohmann(simdjson::dom::element element) {
    using Type = simdjson::dom::element_type;
    switch (element.type()) {
    case Type::ARRAY: {
        json array = json::array();
        simdjson::dom::array items;
        if (!element.get_array().get(items))
            for (simdjson::dom::element item : items)
                array.push_back(toNlohmann(item));
        return array;
    }
    case Type::OBJECT: {
        json object = json::object();
        simdjson::dom::object fields;
        if (!element.get_object().get(fields))
            for (simdjson::dom::key_value_pair field : fields)
                object[std::string(field.key)] = toNlohmann(field.value); // a repeated key: the last one wins
        return object;
    }
    case Type::INT64: {
        const std::int64_t value = element.get_int64().value_unsafe(); // (the type is known: no error)
        // nlohmann reads an integer without a sign as unsigned.
        return value >= 0 ? json(static_cast<std::uint64_t>(value)) : json(value);
    }
    case Type::UINT64: {
        return json(element.get_uint64().value_unsafe());
    }
    case Type::DOUBLE: {
        return json(element.get_double().value_unsafe());
    }
    case Type::STRING: {
        return json(std::string(element.get_string().value_unsafe()));
    }
    case Type::BOOL: {
        return json(element.get_bool().value_unsafe());
    }
    case Type::NULL_VALUE:
        break;
    }
    return json(nullptr);
}

} // namespace

std::optional<nlohmann::json> parseWithSimdjson(std::string_view text) {
    simdjson::dom::parser* parser = simdjsonParserFor(text.size());
    simdjson::dom::element root;
    if (!parser || parser->parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
    return toNlohmann(root);
}

std::optional<SimdTopLevel> readTopLevelWithSimdjson(std::string_view text,
                                                     std::initializer_list<std::string_view> names) {
    simdjson::dom::parser* parser = simdjsonParserFor(text.size());
    simdjson::dom::element root;
    // (parse copies the text into its padded buffer: simdjson reads a few bytes past the end.)
    if (!parser || parser->parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return std::nullopt;

    SimdTopLevel out;
    simdjson::dom::object fields;
    if (root.get_object().get(fields) != simdjson::SUCCESS) return out;
    out.object = true;
    out.members = json::object();
    for (simdjson::dom::key_value_pair field : fields) {
        if (std::find(names.begin(), names.end(), field.key) != names.end())
            out.members[std::string(field.key)] = toNlohmann(field.value);
    }
    return out;
}

std::optional<bool> readTopLevelObjectMember(std::string_view text, std::string_view name,
                                             const std::function<void(const SimdObjectView&)>& read) {
    simdjson::dom::parser* parser = simdjsonParserFor(text.size());
    simdjson::dom::element root;
    if (!parser || parser->parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
    simdjson::dom::object fields;
    if (root.get_object().get(fields) != simdjson::SUCCESS) return false;
    if (const auto member = SimdObjectView(fields).object(name)) read(*member);
    return true;
}

} // namespace fusebox
