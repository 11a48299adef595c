#include "core/UntrustedJson.h"

#include "core/SimdJsonDom.h"

#include <cstring>

namespace fusebox {

using nlohmann::json;

namespace {

const char* typeWord(const json& value) {
    switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "a list";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "something else";
    }
}

} // namespace

JsonShape scanJson(std::string_view text, int limit) {
    JsonShape shape;
    shape.bytes = text.size();
    int depth = 0;
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
        const char c = *p++;
        if (c == '"') {
            // Skip the string: to the next quote that is not escaped.
            for (;;) {
                const void* hit = std::memchr(p, '"', static_cast<std::size_t>(end - p));
                if (!hit) return shape;
                const char* quote = static_cast<const char*>(hit);
                std::size_t backslashes = 0;
                for (const char* q = quote; q > p && q[-1] == '\\'; --q) ++backslashes;
                p = quote + 1;
                if (backslashes % 2 == 0) break;
            }
        } else if (c == '[' || c == '{') {
            if (++depth > shape.depth) shape.depth = depth;
            if (depth > limit) return shape;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        } else if (c == ',') {
            ++shape.commas;
        } else if (c == ':') {
            ++shape.colons;
        }
    }
    return shape;
}

int64_t JsonShape::estimatedDomBytes() const {
    // Each value is a 16-byte json (x2 for a vector's spare capacity); each object member adds a std::map node
    // with its key (~96 bytes); strings take about their text.
    return static_cast<int64_t>(bytes + (commas + 1) * 32 + colons * 96);
}

// simdjson first (core/SimdJsonDom.h: what it accepts nlohmann accepts, as the same value, and its depth limit is
// ours); nlohmann decides what it refuses, with the error texts callers know.
ParsedJson parseUntrusted(std::string_view text) {
    if (auto fast = parseWithSimdjson(text)) return ParsedJson{std::move(*fast), {}};
    return parseScanned(text, scanJson(text, kMaxJsonDepth));
}

ParsedJson parseScanned(std::string_view text, const JsonShape& shape) {
    ParsedJson out;
    if (shape.deeperThan(kMaxJsonDepth)) {
        out.error = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
        return out;
    }
    if (auto fast = parseWithSimdjson(text)) {
        out.value = std::move(*fast);
        return out;
    }
    try {
        out.value = json::parse(text, nullptr, false);
    } catch (const std::exception&) { // allow_exceptions=false covers syntax; this is the belt to those braces
        out.value = json(json::value_t::discarded);
    }
    if (out.value.is_discarded()) {
        out.value = nullptr;
        out.error = "not valid JSON";
    }
    return out;
}

std::string dumpJson(const json& value) {
    try {
        return value.dump(-1, ' ', false, json::error_handler_t::replace);
    } catch (const std::exception&) {
        return "null";
    }
}

std::string clipUtf8(std::string_view text, std::size_t maxBytes, std::string_view ellipsis) {
    if (text.size() <= maxBytes) return std::string(text);
    std::size_t cut = maxBytes;
    // text[cut] is the first byte left out; if it continues a character, that whole character goes too.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    std::string out(text.substr(0, cut));
    out += ellipsis;
    return out;
}

const json* JsonReader::member(const json& object, std::string_view key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return nullptr;
    return &*it;
}

std::string JsonReader::path(std::string_view at, std::string_view key) {
    if (at.empty()) return std::string(key);
    std::string out(at);
    out += '.';
    out += key;
    return out;
}

std::string JsonReader::indexPath(std::string_view at, std::size_t index) {
    return std::string(at) + "[" + std::to_string(index) + "]";
}

void JsonReader::fail(std::string_view at, std::string_view key, std::string_view expected, const json& got) {
    if (failed()) return;
    m_error = "'" + clipUtf8(key.empty() ? std::string(at) : path(at, key), 200) + "' must be " +
              std::string(expected) + ", not " + typeWord(got);
}

std::optional<std::string> JsonReader::string(const json& object, std::string_view key, std::string_view at) {
    const json* value = member(object, key);
    if (!value) return std::nullopt;
    if (!value->is_string()) {
        fail(at, key, "a string", *value);
        return std::nullopt;
    }
    return value->get_ref<const std::string&>();
}

std::optional<bool> JsonReader::boolean(const json& object, std::string_view key, std::string_view at) {
    const json* value = member(object, key);
    if (!value) return std::nullopt;
    if (!value->is_boolean()) {
        fail(at, key, "true or false", *value);
        return std::nullopt;
    }
    return value->get<bool>();
}

std::optional<double> JsonReader::number(const json& object, std::string_view key, std::string_view at) {
    const json* value = member(object, key);
    if (!value) return std::nullopt;
    if (!value->is_number()) {
        fail(at, key, "a number", *value);
        return std::nullopt;
    }
    return value->get<double>();
}

std::optional<int64_t> JsonReader::integer(const json& object, std::string_view key, std::string_view at) {
    const json* value = member(object, key);
    if (!value) return std::nullopt;
    if (value->is_number_integer()) return value->get<int64_t>();
    if (value->is_number_float()) {
        // 4096.0 is an integer to a person; 1e300 or 0.5 is not one.
        const double d = value->get<double>();
        if (d >= -9.0e15 && d <= 9.0e15 && d == static_cast<double>(static_cast<int64_t>(d)))
            return static_cast<int64_t>(d);
    }
    fail(at, key, "an integer", *value);
    return std::nullopt;
}

const json* JsonReader::object(const json& object, std::string_view key, std::string_view at) {
    const json* value = member(object, key);
    if (!value) return nullptr;
    if (!value->is_object()) {
        fail(at, key, "an object", *value);
        return nullptr;
    }
    return value;
}

const json* JsonReader::array(const json& object, std::string_view key, std::string_view at) {
    const json* value = member(object, key);
    if (!value) return nullptr;
    if (!value->is_array()) {
        fail(at, key, "a list", *value);
        return nullptr;
    }
    return value;
}

std::string JsonReader::stringOr(const json& object, std::string_view key, std::string_view fallback,
                                 std::string_view at) {
    auto value = string(object, key, at);
    return value ? std::move(*value) : std::string(fallback);
}

std::string stringOr(const json& object, std::string_view key, std::string_view fallback) {
    const json* value = JsonReader::member(object, key);
    return value && value->is_string() ? value->get_ref<const std::string&>() : std::string(fallback);
}

int64_t integerField(const json& object, std::string_view key) {
    const json* value = JsonReader::member(object, key);
    return value && value->is_number_integer() ? value->get<int64_t>() : 0;
}

} // namespace fusebox
