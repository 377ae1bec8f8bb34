#include "lib/webhook/input_formats.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "lib/http/wire.hpp"
#include "lib/util/base64.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/json.hpp"
#include "lib/webhook/capture_json.hpp"
#include "lib/webhook/har.hpp"
#include "lib/webhook/raw_http.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the SWAR string scanning assumes little-endian words");

namespace epilot::webhook {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// --- The fast path of parse_capture_line -----------------------------------
// A strict reader of exactly one shape: {"method"?, "url"?, "headers"?: {...},
// "body" | "body_base64"}, string values only, each key once. Anything else
// (escapes in keys, nulls, arrays, unknown keys, duplicates, invalid text)
// makes it give up, and the full JSON reader decides instead.

class FastReader {
 public:
  explicit FastReader(std::string_view text) : m_text(text) {}

  // Fill `capture`, reusing its buffers; false if the line is not of the one shape.
  bool read(Capture& capture) {
    capture.method.clear();
    capture.url.clear();
    capture.body.clear();
    capture.body_parsed = false;        // a string body only: a parsed one goes to the full reader
    capture.body_base64_event = false;  // and so does an event that says isBase64Encoded
    m_header_count = 0;
    bool seen_method = false;
    bool seen_url = false;
    bool seen_headers = false;
    bool seen_body = false;
    skip_space();
    if (!eat('{')) {
      return false;
    }
    skip_space();
    if (!eat('}')) {
      while (true) {
        std::string& key = m_key;
        if (!read_string(key) || !colon()) {
          return false;
        }
        if (key == "method" || key == "url") {
          bool& seen = key == "method" ? seen_method : seen_url;
          if (seen || !read_string(key == "method" ? capture.method : capture.url)) {
            return false;
          }
          seen = true;
        } else if (key == "headers") {
          if (seen_headers || !read_headers(capture)) {
            return false;
          }
          seen_headers = true;
        } else if (key == "body" || key == "body_base64") {
          if (seen_body || !read_string(capture.body)) {
            return false;
          }
          if (key == "body_base64") {
            auto bytes = util::base64_decode(capture.body);
            if (!bytes) {
              return false;
            }
            capture.body.assign(util::as_chars(*bytes));
          }
          seen_body = true;
        } else {
          return false;
        }
        skip_space();
        if (eat('}')) {
          break;
        }
        if (!eat(',')) {
          return false;
        }
        skip_space();
      }
    }
    skip_space();
    if (m_pos != m_text.size()) {
      return false;
    }
    capture.headers.resize(m_header_count);
    if (capture.method.empty()) {
      capture.method = std::string(k_default_method);
    }
    // Whatever the full reader refuses, it must also be the one to say so.
    return (seen_headers || seen_body) && http::wire::is_token(capture.method) &&
           (capture.url.empty() || http::wire::is_visible_ascii(capture.url));
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

  static char* append_utf8(char* out, std::uint32_t cp) {
    const auto byte = [](std::uint32_t v) { return static_cast<char>(static_cast<unsigned char>(v)); };
    if (cp < 0x80) {
      *out++ = byte(cp);
    } else if (cp < 0x800) {
      *out++ = byte(0xc0 | (cp >> 6));
      *out++ = byte(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      *out++ = byte(0xe0 | (cp >> 12));
      *out++ = byte(0x80 | ((cp >> 6) & 0x3f));
      *out++ = byte(0x80 | (cp & 0x3f));
    } else {
      *out++ = byte(0xf0 | (cp >> 18));
      *out++ = byte(0x80 | ((cp >> 12) & 0x3f));
      *out++ = byte(0x80 | ((cp >> 6) & 0x3f));
      *out++ = byte(0x80 | (cp & 0x3f));
    }
    return out;
  }

  static constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
  static constexpr std::uint64_t k_highs = 0x8080808080808080ULL;

  // The high bit of each byte of `w` that ends plain string text: below
  // 0x20 (exact for bytes without the high bit, which are tracked apart),
  // '"' or '\\'. The lowest flagged byte is exact; false positives only
  // follow a true one.
  [[gnu::always_inline]] static constexpr std::uint64_t special_bytes(std::uint64_t w) {
    const auto has_zero_byte = [](std::uint64_t v) { return (v - k_ones) & ~v & k_highs; };
    return ((w - k_ones * 0x20) & ~w & k_highs) | has_zero_byte(w ^ (k_ones * '"')) |
           has_zero_byte(w ^ (k_ones * '\\'));
  }

  // The first byte at or after `src` that is '"', '\\' or a control character.
  static const char* plain_run_end(const char* src, const char* end) {
    while (end - src >= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, src, 8);
      if (special_bytes(w) != 0) {
        break;
      }
      src += 8;
    }
    while (src < end && *src != '"' && *src != '\\' && static_cast<unsigned char>(*src) >= 0x20) {
      ++src;
    }
    return src;
  }

  // Unescape a JSON string into `out` (reusing its buffer). Runs of plain
  // bytes are copied eight at a time (SWAR): strings here are bodies of a
  // kilobyte or more. UTF-8 is checked on the result, which is equivalent to
  // checking the raw runs, since escapes only ever produce whole sequences.
  bool read_string(std::string& out) {
    if (!eat('"')) {
      return false;
    }
    const char* src = m_text.data() + m_pos;
    const char* const end = m_text.data() + m_text.size();
    // Most strings (names, ids, signatures) have no escape: find their end
    // and copy them at once.
    if (const char* plain = plain_run_end(src, end); plain < end && *plain == '"') {
      out.assign(src, plain);
      m_pos = static_cast<std::size_t>(plain + 1 - m_text.data());
      return util::is_valid_utf8(out);
    }
    out.resize(static_cast<std::size_t>(end - src));  // the unescaped text is never longer
    char* dst = out.data();
    std::uint64_t high = 0;
    while (true) {
      copy_plain_words(src, end, dst, high);
      if (src == end) {
        return false;
      }
      const auto c = static_cast<unsigned char>(*src++);
      if (c == '"') {
        break;
      }
      if (c < 0x20) {
        return false;
      }
      if (c != '\\') {
        high |= c;
        *dst++ = static_cast<char>(c);
        continue;
      }
      if (!read_escape(src, end, dst)) {
        return false;
      }
    }
    m_pos = static_cast<std::size_t>(src - m_text.data());
    out.resize(static_cast<std::size_t>(dst - out.data()));
    return high == 0 || util::is_valid_utf8(out);
  }

  // Copy eight bytes at a time from `src` to `dst` up to the first byte that
  // is not plain string text (below 0x20, '"' or '\\'), or to the last
  // whole word before `end`; `high` collects the high bits of what was copied.
  [[gnu::always_inline]] static void copy_plain_words(const char*& src, const char* end, char*& dst,
                                                      std::uint64_t& high) {
    while (end - src >= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, src, 8);
      const std::uint64_t special = special_bytes(w);
      // Copy all eight; only the bytes before the first special one count.
      std::memcpy(dst, src, 8);
      if (special != 0) {
        // The lowest flagged byte is the first special byte (little-endian words).
        const auto plain = static_cast<std::size_t>(__builtin_ctzll(special) / 8);
        high |= w & k_highs & ((std::uint64_t{1} << (plain * 8)) - 1);
        src += plain;
        dst += plain;
        return;
      }
      high |= w & k_highs;
      src += 8;
      dst += 8;
    }
  }

  // The escape after a backslash at `src`, unescaped to `dst`; false when
  // it is not a JSON escape (or a \u escape is not a whole code point).
  bool read_escape(const char*& src, const char* end, char*& dst) {
    if (src == end) {
      return false;
    }
    switch (*src++) {
      case '"':
        *dst++ = '"';
        return true;
      case '\\':
        *dst++ = '\\';
        return true;
      case '/':
        *dst++ = '/';
        return true;
      case 'b':
        *dst++ = '\b';
        return true;
      case 'f':
        *dst++ = '\f';
        return true;
      case 'n':
        *dst++ = '\n';
        return true;
      case 'r':
        *dst++ = '\r';
        return true;
      case 't':
        *dst++ = '\t';
        return true;
      case 'u': {
        m_pos = static_cast<std::size_t>(src - m_text.data());
        std::uint32_t cp = 0;
        if (!read_hex4(cp) || (cp >= 0xdc00 && cp <= 0xdfff)) {
          return false;  // bad hex, or a lone low surrogate
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
          std::uint32_t low = 0;
          if (!eat('\\') || !eat('u') || !read_hex4(low) || low < 0xdc00 || low > 0xdfff) {
            return false;
          }
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        }
        // \uXXXX takes six bytes and yields at most four (eight for a pair):
        // the output still fits in the buffer.
        dst = append_utf8(dst, cp);
        src = m_text.data() + m_pos;
        return true;
      }
      default:
        return false;
    }
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
      if (m_header_count >= k_max_header_count) {
        return false;
      }
      if (capture.headers.size() <= m_header_count) {
        capture.headers.emplace_back();
      }
      http::Header& h = capture.headers[m_header_count];
      if (!read_string(h.name) || !colon() || !read_string(h.value)) {
        return false;
      }
      for (std::size_t i = 0; i < m_header_count; ++i) {
        if (capture.headers[i].name == h.name) {
          return false;
        }
      }
      if (!http::validate_header(h.name, h.value).ok()) {
        return false;
      }
      ++m_header_count;
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
  std::size_t m_header_count = 0;
  std::string m_key;
};

// Whether an object with these keys is a capture.
template <class HasKey>
bool is_capture_shape(const HasKey& has) {
  return has("headers") || has("body_base64") || (has("body") && (has("method") || has("url")));
}

bool is_capture_shape(const std::set<std::string>& keys) {
  return is_capture_shape([&](const char* key) { return keys.count(key) != 0; });
}

// The keys of a top-level object, read without building the document (the
// SAX reader keeps its own stack, so any depth is fine); nullopt when `text`
// is not JSON. An array or scalar has none.
std::optional<std::set<std::string>> top_level_keys(std::string_view text) {
  struct Keys : nlohmann::json_sax<nlohmann::json> {
    std::set<std::string> keys;
    std::size_t depth = 0;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return ++depth, true; }
    bool end_object() override { return depth -= 1, true; }
    bool start_array(std::size_t) override { return ++depth, true; }
    bool end_array() override { return depth -= 1, true; }
    bool key(string_t& name) override {
      if (depth == 1) {
        keys.insert(name);
      }
      return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
  } sax;
  if (!nlohmann::json::sax_parse(text, &sax)) {
    return std::nullopt;
  }
  return std::move(sax.keys);
}

// A JSON array of captures, each read as a capture file is.
Result<std::vector<Capture>> parse_capture_array(std::string_view text) {
  auto doc = util::parse_json<nlohmann::json>(text);
  if (!doc) {
    return doc.error();
  }
  if (!doc->is_array()) {
    return make_error(ErrorCode::bad_input, "the input is a JSON array, not captures");
  }
  std::vector<Capture> out;
  for (std::size_t i = 0; i < doc->size(); ++i) {
    const auto& element = (*doc)[i];
    auto capture = element.is_object()
                       ? parse_capture_json(element.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
                       : Result<Capture>(make_error(ErrorCode::bad_input, std::string("a JSON ") + element.type_name() +
                                                                              ", not a capture object"));
    if (!capture) {
      auto error = capture.error();
      error.message = "entry " + std::to_string(i + 1) + " of the array: " + error.message;
      return error;
    }
    out.push_back(std::move(*capture));
  }
  return out;
}

}  // namespace

bool is_capture_object(const nlohmann::json& doc) {
  return doc.is_object() && is_capture_shape([&](const char* key) { return doc.contains(key); });
}

std::optional<bool> has_capture_keys(std::string_view text) {
  const auto keys = top_level_keys(text);
  if (!keys) {
    return std::nullopt;
  }
  return is_capture_shape(*keys);
}

bool starts_with_request_line(std::string_view data) {
  auto line = data.substr(0, data.find('\n'));
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return http::wire::parse_request_line(line).ok();
}

Result<CaptureFormat> detect_capture_format(std::string_view data) {
  std::size_t i = 0;
  // A UTF-8 byte order mark is what Windows editors put in front of JSON.
  if (data.substr(0, 3) == "\xEF\xBB\xBF") {
    i = 3;
  }
  while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) {
    ++i;
  }
  if (i == data.size()) {
    return make_error(ErrorCode::bad_input, "the capture is empty");
  }
  if (data[i] == '{') {
    return CaptureFormat::json;
  }
  if (data[i] >= 'A' && data[i] <= 'Z') {
    return CaptureFormat::raw_http;
  }
  auto error = make_error(ErrorCode::bad_input, Subject::not_a_capture,
                          "the input is neither a JSON capture nor a raw HTTP request");
  error.hints.emplace_back("a raw request starts with a request line like 'POST /hook HTTP/1.1', then headers");
  return error;
}

Result<Capture> parse_capture(std::string_view data) {
  if (data.size() > k_max_input_size) {
    return make_error(ErrorCode::bad_input,
                      "the capture is larger than " + std::to_string(k_max_input_size >> 20) + " MiB");
  }
  auto format = detect_capture_format(data);
  EPILOT_TRY(format);
  return *format == CaptureFormat::json ? parse_capture_json(data) : parse_raw_http(data);
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
    const auto line = util::trim_whitespace(prefix.substr(start, eol - start));
    if (line.empty()) {
      start = eol + 1;
      continue;
    }
    if (!nlohmann::json::accept(line)) {
      return InputFormat::json;  // a pretty-printed object spans lines
    }
    return util::trim_whitespace(prefix.substr(eol + 1)).empty() ? InputFormat::json : InputFormat::json_lines;
  }
}

bool parse_capture_fast(std::string_view line, Capture& capture) { return FastReader(line).read(capture); }

std::optional<Capture> parse_capture_fast(std::string_view line) {
  Capture capture;
  if (!parse_capture_fast(line, capture)) {
    return std::nullopt;
  }
  return capture;
}

Status parse_capture_line(std::string_view line, Capture& capture) {
  if (parse_capture_fast(line, capture)) {
    return ok_status();
  }
  EPILOT_TRY_ASSIGN(capture, parse_capture_json(line));
  return ok_status();
}

Result<Capture> parse_capture_line(std::string_view line) {
  Capture capture;
  EPILOT_TRY(parse_capture_line(line, capture));
  return capture;
}

namespace {

bool is_webhook(const Capture& c) {
  for (const auto name : {k_header_signature, k_header_id, k_svix_header_signature, k_svix_header_id}) {
    if (c.find_header(name) != nullptr) {
      return true;
    }
  }
  return false;
}

}  // namespace

WebhookSelection select_webhook_requests(const std::vector<Capture>& requests) {
  WebhookSelection selection;
  const bool any_webhook = std::any_of(requests.begin(), requests.end(), is_webhook);
  selection.rule = any_webhook ? WebhookRule::webhook_headers : WebhookRule::posts;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (any_webhook ? is_webhook(requests[i]) : requests[i].method == "POST") {
      selection.kept.push_back(i);
    }
  }
  return selection;
}

Result<std::vector<Capture>> parse_requests(std::string_view data) {
  if (data.size() > k_max_input_size) {
    return make_error(ErrorCode::bad_input,
                      "the input is larger than " + std::to_string(k_max_input_size >> 20) + " MiB");
  }
  const auto text = util::trim_whitespace(data);
  if (!text.empty() && text.front() == '[') {
    return parse_capture_array(text);
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
        const auto line = util::trim_whitespace(data.substr(pos, eol - pos));
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

}  // namespace epilot::webhook
