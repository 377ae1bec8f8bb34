#include "lib/inputs.hpp"

#include <nlohmann/json.hpp>

#include <optional>

#include "lib/base64.hpp"
#include "lib/bytes.hpp"
#include "lib/constants.hpp"
#include "lib/har.hpp"

namespace epilot {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// --- The fast path of parse_capture_line -----------------------------------
// A strict reader of exactly one shape: {"method"?, "url"?, "headers"?: {...},
// "body" | "body_base64"}, string values only, each key once. Anything else
// (escapes in keys, nulls, arrays, unknown keys, duplicates, invalid text)
// makes it give up, and the full JSON reader decides instead.

class FastReader {
 public:
  explicit FastReader(std::string_view text) : m_text(text) {}

  std::optional<Capture> read() {
    Capture capture;
    bool seen_method = false;
    bool seen_url = false;
    bool seen_headers = false;
    bool seen_body = false;
    skip_space();
    if (!eat('{')) {
      return std::nullopt;
    }
    skip_space();
    if (!eat('}')) {
      while (true) {
        std::string key;
        if (!read_string(key) || !colon()) {
          return std::nullopt;
        }
        if (key == "method" || key == "url") {
          bool& seen = key == "method" ? seen_method : seen_url;
          if (seen || !read_string(key == "method" ? capture.method : capture.url)) {
            return std::nullopt;
          }
          seen = true;
        } else if (key == "headers") {
          if (seen_headers || !read_headers(capture)) {
            return std::nullopt;
          }
          seen_headers = true;
        } else if (key == "body" || key == "body_base64") {
          std::string value;
          if (seen_body || !read_string(value)) {
            return std::nullopt;
          }
          if (key == "body") {
            capture.body = std::move(value);
          } else {
            auto bytes = base64_decode(value);
            if (!bytes) {
              return std::nullopt;
            }
            capture.body.assign(as_chars(*bytes));
          }
          seen_body = true;
        } else {
          return std::nullopt;
        }
        skip_space();
        if (eat('}')) {
          break;
        }
        if (!eat(',')) {
          return std::nullopt;
        }
        skip_space();
      }
    }
    skip_space();
    if (m_pos != m_text.size()) {
      return std::nullopt;
    }
    if (capture.method.empty()) {
      capture.method = std::string(k_default_method);
    }
    return capture;
  }

 private:
  void skip_space() {
    while (m_pos < m_text.size() && is_space(m_text[m_pos])) {
      ++m_pos;
    }
  }
  bool eat(char c) {
    if (m_pos < m_text.size() && m_text[m_pos] == c) {
      ++m_pos;
      return true;
    }
    return false;
  }
  bool colon() {
    skip_space();
    if (!eat(':')) {
      return false;
    }
    skip_space();
    return true;
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  bool read_hex4(std::uint32_t& out) {
    if (m_text.size() - m_pos < 4) {
      return false;
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const int v = hex_value(m_text[m_pos++]);
      if (v < 0) {
        return false;
      }
      out = (out << 4) | static_cast<std::uint32_t>(v);
    }
    return true;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  bool read_string(std::string& out) {
    if (!eat('"')) {
      return false;
    }
    out.clear();
    while (m_pos < m_text.size()) {
      // Copy the run up to the next quote, backslash or control character at once.
      std::size_t end = m_pos;
      while (end < m_text.size()) {
        const auto c = static_cast<unsigned char>(m_text[end]);
        if (c == '"' || c == '\\' || c < 0x20) {
          break;
        }
        ++end;
      }
      const auto run = m_text.substr(m_pos, end - m_pos);
      if (!is_valid_utf8(run)) {
        return false;
      }
      out.append(run);
      m_pos = end;
      if (m_pos == m_text.size()) {
        return false;
      }
      const char c = m_text[m_pos++];
      if (c == '"') {
        return true;
      }
      if (c != '\\' || m_pos == m_text.size()) {
        return false;  // a raw control character, or a dangling backslash
      }
      const char e = m_text[m_pos++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!read_hex4(cp)) {
            return false;
          }
          if (cp >= 0xdc00 && cp <= 0xdfff) {
            return false;  // a lone low surrogate
          }
          if (cp >= 0xd800 && cp <= 0xdbff) {
            std::uint32_t low = 0;
            if (!eat('\\') || !eat('u') || !read_hex4(low) || low < 0xdc00 || low > 0xdfff) {
              return false;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  bool read_headers(Capture& capture) {
    if (!eat('{')) {
      return false;
    }
    skip_space();
    if (eat('}')) {
      return true;
    }
    while (true) {
      Header h;
      if (!read_string(h.name) || !colon() || !read_string(h.value)) {
        return false;
      }
      for (const auto& other : capture.headers) {
        if (other.name == h.name) {
          return false;
        }
      }
      if (!validate_header(h.name, h.value).ok() || capture.headers.size() >= k_max_header_count) {
        return false;
      }
      capture.headers.push_back(std::move(h));
      skip_space();
      if (eat('}')) {
        return true;
      }
      if (!eat(',')) {
        return false;
      }
      skip_space();
    }
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

}  // namespace

std::string_view describe(InputFormat format) {
  switch (format) {
    case InputFormat::json:
      return "JSON capture";
    case InputFormat::json_lines:
      return "JSON Lines";
    case InputFormat::har:
      return "HAR";
    case InputFormat::raw_http:
      return "raw HTTP request";
  }
  return "?";
}

Result<InputFormat> detect_input_format(std::string_view prefix) {
  auto basic = detect_capture_format(prefix);
  EPILOT_TRY(basic);
  if (*basic == CaptureFormat::raw_http) {
    return InputFormat::raw_http;
  }
  if (looks_like_har(prefix)) {
    return InputFormat::har;
  }
  // Skip blank lines, then look at the first line with content.
  std::size_t start = 0;
  while (true) {
    const auto eol = prefix.find('\n', start);
    if (eol == std::string_view::npos) {
      return InputFormat::json;
    }
    const auto line = trim(prefix.substr(start, eol - start));
    if (line.empty()) {
      start = eol + 1;
      continue;
    }
    if (!nlohmann::json::accept(line)) {
      return InputFormat::json;  // a pretty-printed object spans lines
    }
    return trim(prefix.substr(eol + 1)).empty() ? InputFormat::json : InputFormat::json_lines;
  }
}

std::optional<Capture> parse_capture_fast(std::string_view line) { return FastReader(line).read(); }

Result<Capture> parse_capture_line(std::string_view line) {
  if (auto fast = parse_capture_fast(line)) {
    return std::move(*fast);
  }
  return parse_capture_json(line);
}

Result<std::vector<Capture>> parse_requests(std::string_view data) {
  if (data.size() > k_max_input_size) {
    return make_error(ErrorCode::bad_input,
                      "the input is larger than " + std::to_string(k_max_input_size >> 20) + " MiB");
  }
  auto format = detect_input_format(data);
  EPILOT_TRY(format);
  std::vector<Capture> out;
  switch (*format) {
    case InputFormat::har:
      return parse_har(data);
    case InputFormat::json_lines: {
      std::size_t pos = 0;
      std::size_t line_number = 0;
      while (pos < data.size()) {
        auto eol = data.find('\n', pos);
        if (eol == std::string_view::npos) {
          eol = data.size();
        }
        ++line_number;
        const auto line = trim(data.substr(pos, eol - pos));
        pos = eol + 1;
        if (line.empty()) {
          continue;
        }
        auto capture = parse_capture_line(line);
        if (!capture) {
          auto error = capture.error();
          error.message = "line " + std::to_string(line_number) + ": " + error.message;
          return error;
        }
        out.push_back(std::move(*capture));
      }
      return out;
    }
    case InputFormat::json:
    case InputFormat::raw_http: {
      auto capture = parse_capture(data);
      EPILOT_TRY(capture);
      out.push_back(std::move(*capture));
      return out;
    }
  }
  return out;
}

}  // namespace epilot
