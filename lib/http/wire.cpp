#include "lib/http/wire.hpp"

#include <charconv>

#include "lib/util/bytes.hpp"

namespace epilot::http::wire {

namespace {

Error wire_error(std::string message) { return make_error(ErrorCode::bad_input, std::move(message)); }

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// "HTTP/d.d" with single digits; nullopt if `text` is not that shape.
std::optional<std::pair<int, int>> parse_version(std::string_view text) {
  if (text.size() != 8 || text.substr(0, 5) != "HTTP/" || text[6] != '.' || text[5] < '0' || text[5] > '9' ||
      text[7] < '0' || text[7] > '9') {
    return std::nullopt;
  }
  return std::pair{text[5] - '0', text[7] - '0'};
}

std::optional<Version> known_version(std::pair<int, int> v) {
  if (v.first == 1 && v.second == 0) {
    return Version::http10;
  }
  if (v.first == 1 && v.second == 1) {
    return Version::http11;
  }
  return std::nullopt;
}

// The fields' Content-Length, if any: every value (and list element) must
// be the same number.
Result<std::optional<std::size_t>> content_length(const std::vector<FieldView>& fields) {
  std::optional<std::size_t> length;
  for (const auto& f : fields) {
    if (!util::iequals_ascii(f.name, "content-length")) {
      continue;
    }
    auto list = f.value;
    do {
      const auto comma = list.find(',');
      const auto item = util::trim_ows(list.substr(0, comma));
      const auto n = parse_content_length(item);
      if (!n) {
        return wire_error("Content-Length '" + printable(f.value) + "' is not a number of bytes");
      }
      if (length && *length != *n) {
        return wire_error("two Content-Lengths disagree (" + std::to_string(*length) + " and " + std::to_string(*n) +
                          ")");
      }
      length = n;
      if (comma == std::string_view::npos) {
        break;
      }
      list = list.substr(comma + 1);  // "5," has an empty element: refused above on the next turn
    } while (true);
  }
  return length;
}

// Connection tokens over the version's default.
bool keep_alive(Version version, const std::vector<FieldView>& fields) {
  bool keep = version == Version::http11;
  for (const auto& f : fields) {
    if (util::iequals_ascii(f.name, "connection")) {
      if (has_token(f.value, "close")) {
        return false;
      }
      if (has_token(f.value, "keep-alive")) {
        keep = true;
      }
    }
  }
  return keep;
}

}  // namespace

bool is_token(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (char c : text) {
    if (!is_token_char(c)) {
      return false;
    }
  }
  return true;
}

bool is_field_value(std::string_view value) {
  // A plain loop: find_first_of calls memchr once per character.
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return false;
    }
  }
  return true;
}

bool is_visible_ascii(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

std::string printable(std::string_view text, std::size_t max) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  const auto shown = text.substr(0, max);
  for (char ch : shown) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  if (text.size() > max) {
    out += "...";
  }
  return out;
}

std::optional<std::size_t> HeadScanner::scan(std::string_view buffer) {
  while (!m_in_head && m_pos < buffer.size()) {
    if (buffer[m_pos] == '\n') {
      m_start = ++m_pos;
    } else if (buffer[m_pos] == '\r') {
      if (m_pos + 1 == buffer.size()) {
        return std::nullopt;
      }
      if (buffer[m_pos + 1] != '\n') {
        m_in_head = true;  // not an empty line: the start line's problem
      } else {
        m_start = m_pos += 2;
      }
    } else {
      m_in_head = true;
    }
  }
  while (m_in_head) {
    const auto lf = buffer.find('\n', m_pos);
    if (lf == std::string_view::npos) {
      m_pos = buffer.size();
      return std::nullopt;
    }
    // Is the line after this LF empty?
    if (lf + 1 == buffer.size() || (buffer[lf + 1] == '\r' && lf + 2 == buffer.size())) {
      m_pos = lf;  // look again once more bytes came
      return std::nullopt;
    }
    if (buffer[lf + 1] == '\n') {
      return lf + 2;
    }
    if (buffer[lf + 1] == '\r' && buffer[lf + 2] == '\n') {
      return lf + 3;
    }
    m_pos = lf + 1;
  }
  return std::nullopt;
}

Result<HeadView> parse_head(std::string_view head, std::size_t max_fields) {
  HeadView out;
  std::size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    const auto lf = head.find('\n', pos);
    auto line = head.substr(pos, lf == std::string_view::npos ? std::string_view::npos : lf - pos);
    pos = lf == std::string_view::npos ? head.size() : lf + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (first) {
      out.start_line = line;
      first = false;
      continue;
    }
    if (line.empty()) {
      break;  // the blank line that ends the head
    }
    if (line.front() == ' ' || line.front() == '\t') {
      return wire_error("a header line is folded onto the one before (obsolete line folding)");
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      return wire_error("header line '" + printable(line) + "' has no ':'");
    }
    const auto name = line.substr(0, colon);
    if (!is_token(name)) {
      return wire_error("header name '" + printable(name) + "' is not an HTTP token");
    }
    const auto value = util::trim_ows(line.substr(colon + 1));
    if (!is_field_value(value)) {
      return wire_error("header '" + printable(name) + "' contains CR, NUL or another control byte");
    }
    if (out.fields.size() == max_fields) {
      return wire_error("more than " + std::to_string(max_fields) + " header fields");
    }
    out.fields.push_back({name, value});
  }
  if (first) {
    return wire_error("the head is empty");
  }
  return out;
}

namespace {

// A request target, or a whole request line, with its query shown as
// "?...": an error message is logged, and a query may carry a token.
std::string target_without_query(std::string_view target) {
  const auto mark = target.find('?');
  return mark == std::string_view::npos ? printable(target) : printable(target.substr(0, mark)) + "?...";
}

std::string line_without_query(std::string_view line) {
  const auto mark = line.find('?');
  if (mark == std::string_view::npos) {
    return printable(line);
  }
  const auto last = line.rfind(' ');  // before the version, if there is one
  const bool version_after = last != std::string_view::npos && last > mark;
  return printable(line.substr(0, mark)) + "?..." + (version_after ? printable(line.substr(last)) : std::string());
}

}  // namespace

Result<RequestLine> parse_request_line(std::string_view line) {
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) {
    return wire_error("request line '" + line_without_query(line) + "' is not 'METHOD TARGET HTTP/1.1'");
  }
  RequestLine out;
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = parse_version(line.substr(sp2 + 1));
  if (!version) {
    return wire_error("request line '" + line_without_query(line) + "' is not 'METHOD TARGET HTTP/1.1'");
  }
  if (!is_token(out.method)) {
    return wire_error("the method '" + printable(out.method) + "' is not an HTTP token");
  }
  if (!is_visible_ascii(out.target)) {
    return wire_error("the request target '" + target_without_query(out.target) +
                      "' is empty or holds a byte outside visible ASCII (percent-encode it)");
  }
  out.version = known_version(*version);
  return out;
}

// RFC 9112 section 3.2: a path (origin-form), an absolute URL
// (absolute-form, which a server must accept), or "*" for OPTIONS. The
// authority-form is CONNECT's, which no one asks of a webhook endpoint.
Status check_target_form(const RequestLine& line) {
  const auto target = line.target;
  if ((!target.empty() && target.front() == '/') || (target == "*" && line.method == "OPTIONS")) {
    return ok_status();
  }
  if (const auto scheme = target.find("://"); scheme != std::string_view::npos) {
    const auto name = util::to_lower_ascii(target.substr(0, scheme));
    if (name == "http" || name == "https") {
      return ok_status();
    }
  }
  return wire_error("the request target '" + target_without_query(target) +
                    "' is not a path: it must start with '/' (or be an http(s) URL; '*' is for OPTIONS)");
}

TargetParts split_target(std::string_view target) {
  if (!target.empty() && target.front() != '/') {
    if (const auto scheme = target.find("://"); scheme != std::string_view::npos) {
      const auto rest = target.find_first_of("/?", scheme + 3);
      target = rest == std::string_view::npos ? std::string_view() : target.substr(rest);
    }
  }
  TargetParts out;
  const auto mark = target.find('?');
  out.path = target.substr(0, mark);
  if (out.path.empty()) {
    out.path = "/";
  }
  if (mark != std::string_view::npos) {
    out.query = target.substr(mark + 1);
    out.has_query = true;
  }
  return out;
}

Result<StatusLine> parse_status_line(std::string_view line) {
  const auto version = parse_version(line.substr(0, 8));
  if (!version || version->first != 1 || line.size() < 12 || line[8] != ' ') {
    return wire_error("the answer is not HTTP/1.x");
  }
  StatusLine out;
  out.version = version->second == 0 ? Version::http10 : Version::http11;
  const auto digits = line.substr(9, 3);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + 3, out.status);
  if (ec != std::errc() || end != digits.data() + 3 || out.status < 100 || (line.size() > 12 && line[12] != ' ')) {
    return wire_error("the answer's status line is malformed");
  }
  out.reason = util::trim_ows(line.size() > 13 ? line.substr(13) : std::string_view{});
  return out;
}

bool is_hop_by_hop(std::string_view name, const std::vector<Header>& fields) {
  static constexpr std::string_view k_names[] = {"connection", "keep-alive", "proxy-connection",  "te",
                                                 "trailer",    "upgrade",    "transfer-encoding", "content-length"};
  for (const auto n : k_names) {
    if (util::iequals_ascii(name, n)) {
      return true;
    }
  }
  for (const auto& f : fields) {
    if (util::iequals_ascii(f.name, "connection") && has_token(f.value, name)) {
      return true;
    }
  }
  return false;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (util::iequals_ascii(util::trim_ows(list.substr(0, comma)), token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::size_t> parse_content_length(std::string_view value) {
  std::size_t n = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, n);
  if (value.empty() || value.front() < '0' || value.front() > '9' || ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return n;
}

Result<Framing> request_framing(Version version, const std::vector<FieldView>& fields) {
  Framing out;
  out.keep_alive = keep_alive(version, fields);
  const FieldView* te = nullptr;
  for (const auto& f : fields) {
    if (util::iequals_ascii(f.name, "transfer-encoding")) {
      if (te != nullptr) {
        return wire_error("Transfer-Encoding is given twice");
      }
      te = &f;
    } else if (util::iequals_ascii(f.name, "expect")) {
      out.expect_continue = util::iequals_ascii(f.value, "100-continue");
    }
  }
  auto length = content_length(fields);
  EPILOT_TRY(length);
  if (te != nullptr) {
    if (!util::iequals_ascii(te->value, "chunked")) {
      return wire_error("Transfer-Encoding '" + printable(te->value) + "' is not supported; only chunked is");
    }
    if (version == Version::http10) {
      return wire_error("an HTTP/1.0 request cannot use Transfer-Encoding");
    }
    if (*length) {
      return wire_error("the request has both Transfer-Encoding and Content-Length");
    }
    out.body = BodyKind::chunked;
    return out;
  }
  if (*length) {
    out.body = BodyKind::length;
    out.length = **length;
  }
  return out;
}

Result<Framing> response_framing(Version version, int status, bool head_request, const std::vector<FieldView>& fields) {
  Framing out;
  out.keep_alive = keep_alive(version, fields);
  if (head_request || status < 200 || status == 204 || status == 304) {
    return out;
  }
  bool chunked = false;
  bool coded = false;
  for (const auto& f : fields) {
    if (util::iequals_ascii(f.name, "transfer-encoding")) {
      coded = true;
      // Only a final `chunked` frames the body; otherwise the close does.
      const auto last = f.value.rfind(',');
      chunked = util::iequals_ascii(util::trim_ows(last == std::string_view::npos ? f.value : f.value.substr(last + 1)),
                                    "chunked");
    }
  }
  if (coded) {
    out.body = chunked ? BodyKind::chunked : BodyKind::until_close;
    out.keep_alive = out.keep_alive && chunked;
    return out;
  }
  auto length = content_length(fields);
  EPILOT_TRY(length);
  if (*length) {
    out.body = BodyKind::length;
    out.length = **length;
  } else {
    out.body = BodyKind::until_close;
    out.keep_alive = false;
  }
  return out;
}

ChunkedDecoder::State ChunkedDecoder::fail(std::string message) {
  m_error = std::move(message);
  m_phase = Phase::done;
  return State::error;
}

// A complete chunk-size line is in m_line (without its line end):
// 1*HEXDIG, then optionally spaces and `;` extensions (RFC 9112 section 7.1).
ChunkedDecoder::State ChunkedDecoder::end_size_line(std::string& body) {
  const auto line = std::string_view(m_line);
  const auto semicolon = line.find(';');
  const auto digits = util::trim_ows(line.substr(0, semicolon));
  const bool leading_space = !line.empty() && (line.front() == ' ' || line.front() == '\t');
  std::size_t size = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
  const bool bad_extension =
      semicolon != std::string_view::npos &&
      line.substr(semicolon).find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos;
  if (digits.empty() || leading_space || ec != std::errc() || ptr != digits.data() + digits.size() || bad_extension ||
      digits.front() == '+' || digits.front() == '-') {
    return fail("chunked body has a malformed chunk size '" + printable(m_line, 40) + "'");
  }
  m_line.clear();
  if (size == 0) {
    m_phase = Phase::trailers;
    return State::need_more;
  }
  if (size > m_max_body - m_total) {
    m_too_large = true;
    return fail("the chunked body is larger than " + std::to_string(m_max_body) + " bytes");
  }
  m_total += size;
  body.reserve(body.size() + size);
  m_remaining = size;
  m_phase = Phase::data;
  return State::need_more;
}

ChunkedDecoder::State ChunkedDecoder::feed(std::string_view data, std::string& body, std::size_t& used) {
  used = 0;
  while (m_phase != Phase::done) {
    if (used == data.size()) {
      return State::need_more;
    }
    const auto input = data.substr(used);
    auto step = State::need_more;
    switch (m_phase) {
      case Phase::size_line:
      case Phase::trailers:
        step = take_line(input, body, used);
        break;
      case Phase::data:
        used += take_data(input, body);
        break;
      case Phase::data_end:
        used += 1;
        step = take_data_end(input.front());
        break;
      case Phase::done:
        break;
    }
    if (step == State::error) {
      return State::error;
    }
  }
  return m_error.empty() ? State::done : State::error;
}

// A size line or a trailer line, as much of it as `input` holds; a whole
// one is acted on.
ChunkedDecoder::State ChunkedDecoder::take_line(std::string_view input, std::string& body, std::size_t& used) {
  const auto lf = input.find('\n');
  const auto take = lf == std::string_view::npos ? input.size() : lf;
  // Trailer lines count together, their line ends included.
  const auto used_before = m_phase == Phase::size_line ? 0 : m_trailer_bytes + 1;
  const auto limit = m_phase == Phase::size_line ? k_max_chunk_line : k_max_trailers;
  if (used_before + m_line.size() + take > limit) {
    return fail(m_phase == Phase::size_line ? "chunked body has a chunk-size line that is too long"
                                            : "chunked body's trailer fields are too large");
  }
  m_line.append(input.substr(0, take));
  used += take;
  if (lf == std::string_view::npos) {
    return State::need_more;
  }
  used += 1;
  if (!m_line.empty() && m_line.back() == '\r') {
    m_line.pop_back();
  }
  return m_phase == Phase::size_line ? end_size_line(body) : end_trailer_line();
}

// A trailer field is checked and dropped; the empty line ends the body.
ChunkedDecoder::State ChunkedDecoder::end_trailer_line() {
  for (char c : m_line) {
    if (c == '\r' || c == '\0') {
      return fail("chunked body has a trailer line with CR or NUL in it");
    }
  }
  m_trailer_bytes += m_line.size() + 1;
  const bool end = m_line.empty();
  m_line.clear();
  if (end) {
    m_phase = Phase::done;
  }
  return State::need_more;
}

// Up to the rest of the chunk's bytes; returns how many it took.
std::size_t ChunkedDecoder::take_data(std::string_view input, std::string& body) {
  const auto take = std::min(input.size(), m_remaining);
  body.append(input.substr(0, take));
  m_remaining -= take;
  if (m_remaining == 0) {
    m_phase = Phase::data_end;
    m_seen_cr = false;
  }
  return take;
}

// One byte of the line end after a chunk's data.
ChunkedDecoder::State ChunkedDecoder::take_data_end(char c) {
  if (c == '\n') {
    m_phase = Phase::size_line;
  } else if (c != '\r' || m_seen_cr) {
    return fail("chunked body: a chunk is not followed by a line end");
  } else {
    m_seen_cr = true;
  }
  return State::need_more;
}

}  // namespace epilot::http::wire

namespace epilot::http {

Status validate_header(std::string_view name, std::string_view value) {
  if (name.empty()) {
    return wire::wire_error("a header has an empty name");
  }
  if (!wire::is_token(name)) {
    return wire::wire_error("header name '" + wire::printable(name) +
                            "' contains a character not allowed in HTTP header names");
  }
  if (value.size() > k_max_header_line) {
    return wire::wire_error("header '" + wire::printable(name) + "' is " + std::to_string(value.size()) +
                            " bytes long; at most " + std::to_string(k_max_header_line) + " are accepted");
  }
  if (!wire::is_field_value(value)) {
    return wire::wire_error("header '" + wire::printable(name) + "' contains CR, LF, NUL or another control byte");
  }
  return ok_status();
}

}  // namespace epilot::http
