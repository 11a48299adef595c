#pragma once
// Read access to a JSON object's members, the same whichever parser holds the document: nlohmann's DOM here,
// simdjson's in SimdObjectView.h (which does not build nlohmann's form at all). Code that only reads a few fields
// (a usage object's token counts) is written once, as a template over either view.
#include "core/UntrustedJson.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace fusebox {

class JsonObjectView {
  public:
    // `object` must be a JSON object.
    explicit JsonObjectView(const nlohmann::json& object) : m_object(object) {}

    // The member, when it is an object.
    std::optional<JsonObjectView> object(std::string_view key) const {
        const nlohmann::json* value = JsonReader::member(m_object, key);
        if (!value || !value->is_object()) return std::nullopt;
        return JsonObjectView(*value);
    }
    // The member, when it is an integer (one beyond int64 wraps, as nlohmann's get<int64_t> does).
    std::optional<int64_t> integer(std::string_view key) const {
        const nlohmann::json* value = JsonReader::member(m_object, key);
        if (!value || !value->is_number_integer()) return std::nullopt;
        return value->get<int64_t>();
    }

  private:
    const nlohmann::json& m_object;
};

} // namespace fusebox
