#pragma once
// JsonObjectView's reads over simdjson's DOM (see JsonObjectView.h), with the same answers as over the document
// nlohmann would build from the same text: a repeated name reads as its last value, an integer beyond int64 wraps.
// Valid only as long as the parser's document is (see SimdJsonParser.h: until the thread's next parse).
#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace fusebox {

class SimdObjectView {
  public:
    explicit SimdObjectView(simdjson::dom::object object) : m_object(object) {}

    std::optional<SimdObjectView> object(std::string_view key) const {
        const auto value = last(key);
        simdjson::dom::object member;
        if (!value || value->get_object().get(member) != simdjson::SUCCESS) return std::nullopt;
        return SimdObjectView(member);
    }
    std::optional<int64_t> integer(std::string_view key) const {
        const auto value = last(key);
        if (!value) return std::nullopt;
        if (value->is_int64()) return value->get_int64().value_unsafe();
        if (value->is_uint64()) return static_cast<int64_t>(value->get_uint64().value_unsafe());
        return std::nullopt;
    }

  private:
    std::optional<simdjson::dom::element> last(std::string_view key) const {
        std::optional<simdjson::dom::element> found;
        for (simdjson::dom::key_value_pair field : m_object)
            if (field.key == key) found = field.value;
        return found;
    }

    simdjson::dom::object m_object;
};

} // namespace fusebox
