#include "core/JsonMembers.h"

#include "core/SimdJsonDom.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace fusebox {

using nlohmann::json;

namespace {

// Validates every byte (nlohmann's parser decides, as in the full parse) and hands the events of a wanted
// top-level member's value to nlohmann's own DOM builder, so that value is exactly what the full parse makes.
class MemberCapture {
public:
    MemberCapture(std::initializer_list<std::string_view> names, json& out) : m_names(names), m_out(out) {}

    bool object = false;

    bool null() { return value([](auto& dom) { return dom.null(); }); }
    bool boolean(bool v) { return value([v](auto& dom) { return dom.boolean(v); }); }
    bool number_integer(json::number_integer_t v) { return value([v](auto& dom) { return dom.number_integer(v); }); }
    bool number_unsigned(json::number_unsigned_t v) {
        return value([v](auto& dom) { return dom.number_unsigned(v); });
    }
    bool number_float(json::number_float_t v, const json::string_t& s) {
        return value([v, &s](auto& dom) { return dom.number_float(v, s); });
    }
    bool string(json::string_t& v) { return value([&v](auto& dom) { return dom.string(v); }); }
    bool binary(json::binary_t& v) { return value([&v](auto& dom) { return dom.binary(v); }); }

    bool start_object(std::size_t n) {
        if (m_depth == 0) object = true;
        beginCapture();
        if (m_dom) m_dom->start_object(n);
        ++m_depth;
        return true;
    }
    bool start_array(std::size_t n) {
        beginCapture();
        if (m_dom) m_dom->start_array(n);
        ++m_depth;
        return true;
    }
    bool end_object() {
        --m_depth;
        if (m_dom) m_dom->end_object();
        endCaptureAtMemberLevel();
        return true;
    }
    bool end_array() {
        --m_depth;
        if (m_dom) m_dom->end_array();
        endCaptureAtMemberLevel();
        return true;
    }
    bool key(json::string_t& name) {
        if (m_dom) return m_dom->key(name);
        if (object && m_depth == 1 && std::find(m_names.begin(), m_names.end(), name) != m_names.end())
            m_pending = name;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

private:
    template <class Emit> bool value(Emit&& emit) {
        beginCapture();
        if (m_dom) emit(*m_dom);
        endCaptureAtMemberLevel();
        return true;
    }
    // The value that starts now is a wanted member's: build it.
    void beginCapture() {
        if (!m_pending || m_dom) return;
        m_captured = json();
        m_dom.emplace(m_captured, false);
    }
    // Called after a value's last event: a wanted member's value is complete when we are back in the top object.
    void endCaptureAtMemberLevel() {
        if (!m_dom || m_depth != 1) return;
        m_dom.reset();
        m_out[*m_pending] = std::move(m_captured); // a repeated name: the last one wins, as in the full parse
        m_pending.reset();
    }

    std::initializer_list<std::string_view> m_names;
    json& m_out;
    int m_depth = 0;
    std::optional<std::string> m_pending;
    json m_captured;
    std::optional<nlohmann::detail::json_sax_dom_parser<json>> m_dom;
};

} // namespace

namespace {

std::optional<JsonMembers> readFast(std::string_view text, std::initializer_list<std::string_view> names) {
    auto fast = readTopLevelWithSimdjson(text, names);
    if (!fast) return std::nullopt;
    JsonMembers out;
    out.object = fast->object;
    if (fast->object) out.value = std::move(fast->members);
    return out;
}

} // namespace

JsonMembers readTopLevelMembers(std::string_view text, std::initializer_list<std::string_view> names) {
    if (auto fast = readFast(text, names)) return std::move(*fast);
    return readTopLevelMembers(text, scanJson(text, kMaxJsonDepth), names);
}

JsonMembers readTopLevelMembers(std::string_view text, const JsonShape& shape,
                                std::initializer_list<std::string_view> names) {
    JsonMembers out;
    if (shape.deeperThan(kMaxJsonDepth)) {
        out.error = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
        return out;
    }
    // The fast path; what simdjson refuses (a byte-order mark, a 20-digit integer, or invalid JSON), nlohmann
    // decides.
    if (auto fast = readFast(text, names)) return std::move(*fast);
    json members = json::object();
    bool valid = false;
    bool object = false;
    try {
        MemberCapture capture(names, members);
        valid = json::sax_parse(text, &capture);
        object = capture.object;
    } catch (const std::exception&) { // the SAX path reports errors through parse_error; this is the belt
        valid = false;
    }
    if (!valid) {
        out.error = "not valid JSON";
        return out;
    }
    out.object = object;
    if (object) out.value = std::move(members);
    return out;
}

} // namespace fusebox
