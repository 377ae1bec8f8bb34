#pragma once

// JSON written straight into a string, for output lines made by the
// hundred thousand (verify of a stream): building an nlohmann document per
// line cost more than verifying an HMAC capture did. The bytes are the same
// as nlohmann's dump(-1, ' ', false, error_handler_t::replace) of the same
// values, so the two can be mixed and compared.

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>

namespace epilot::util {

// Append `text` to `out` as a JSON string literal, quotes included: `"` and
// `\` escaped, control bytes as \b \t \n \f \r or \u00XX, UTF-8 kept as it
// is, and every byte sequence that is not UTF-8 written as one U+FFFD (the
// way nlohmann's `replace` handler does it).
void append_json_string(std::string& out, std::string_view text);

// A writer of one JSON value into `out`, commas placed for the caller:
//
//   JsonWriter w(line);
//   w.begin_object().key("event").string("request").key("valid").boolean(true).end_object();
//
// It checks nothing: an unbalanced or misplaced call writes invalid JSON.
// Keys are written as they are given (callers pass fixed ASCII names).
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : m_out(out) {}

  JsonWriter& begin_object() {
    separate();
    m_out.push_back('{');
    m_comma = false;
    return *this;
  }
  JsonWriter& end_object() {
    m_out.push_back('}');
    m_comma = true;
    return *this;
  }
  JsonWriter& begin_array() {
    separate();
    m_out.push_back('[');
    m_comma = false;
    return *this;
  }
  JsonWriter& end_array() {
    m_out.push_back(']');
    m_comma = true;
    return *this;
  }
  // `name` must need no escaping.
  JsonWriter& key(std::string_view name) {
    separate();
    m_out.push_back('"');
    m_out.append(name.data(), name.size());
    m_out.append("\":", 2);
    m_comma = false;
    return *this;
  }
  JsonWriter& string(std::string_view text) {
    separate();
    append_json_string(m_out, text);
    m_comma = true;
    return *this;
  }
  JsonWriter& boolean(bool value) {
    separate();
    m_out.append(value ? "true" : "false", value ? 4 : 5);
    m_comma = true;
    return *this;
  }
  JsonWriter& null() {
    separate();
    m_out.append("null", 4);
    m_comma = true;
    return *this;
  }
  template <std::integral T>
  JsonWriter& number(T value) {
    separate();
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    m_out.append(digits, static_cast<std::size_t>(end - digits));
    m_comma = true;
    return *this;
  }

 private:
  // A value or key that follows another in the same object or array.
  void separate() {
    if (m_comma) {
      m_out.push_back(',');
    }
  }

  std::string& m_out;
  bool m_comma = false;  // the last thing written was a complete value
};

}  // namespace epilot::util
