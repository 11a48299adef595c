#pragma once
// The header fields of a whole answer, framed as they go on the wire ("Name: value\r\n" each, in the order
// added), for ClientSession::respond. Beast's fields cost an allocation and a case-insensitive tree insert per
// field, more than the rest of relaying a small answer. As with Beast's fields, the caller vouches for the text:
// names are tokens, values hold no CR, LF or NUL (headerValue makes them so).
#include <string>
#include <string_view>

namespace fusebox {

class FramedFields {
  public:
    void insert(std::string_view name, std::string_view value);
    const std::string& text() const { return m_text; }

  private:
    std::string m_text;
};

} // namespace fusebox
