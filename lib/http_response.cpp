#include "lib/http_response.hpp"

#include <charconv>

#include "lib/bytes.hpp"
#include "lib/constants.hpp"

namespace epilot {

namespace {

// True when the comma-separated `list` holds `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (iequals_ascii(trim_whitespace(list.substr(0, comma)), token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

ResponseParser::ResponseParser(bool head_request, std::size_t max_body)
    : m_head_request(head_request), m_max_body(max_body) {}

void ResponseParser::reset() {
  m_phase = Phase::head;
  m_line.clear();
  m_remaining = 0;
  m_consumed = 0;
  m_started = false;
  m_answer = HttpAnswer{};
  m_error.clear();
}

ResponseParser::State ResponseParser::fail(std::string message) {
  m_error = std::move(message);
  return State::error;
}

ResponseParser::State ResponseParser::parse_head(std::string_view head) {
  // Status line: HTTP/1.x SP 3DIGIT SP reason
  const auto line_end = head.find('\n');
  const auto status_line = trim_whitespace(head.substr(0, line_end));
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
    return fail("the answer is not HTTP/1.x");
  }
  const bool http10 = status_line[7] == '0';
  int status = 0;
  const auto digits = status_line.substr(9, 3);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + 3, status);
  if (ec != std::errc() || end != digits.data() + 3 || status < 100 || status > 999 ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return fail("the answer's status line is malformed");
  }
  m_answer = HttpAnswer{};
  m_answer.status = status;
  m_answer.reason = std::string(trim_whitespace(status_line.size() > 13 ? status_line.substr(13) : std::string_view{}));
  m_answer.keep_alive = !http10;

  bool chunked = false;
  bool has_length = false;
  std::size_t length = 0;
  auto rest = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 1);
  while (!rest.empty()) {
    auto next = rest.find('\n');
    auto line = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return fail("the answer has a malformed header line");
    }
    const auto name = line.substr(0, colon);
    const auto value = trim_whitespace(line.substr(colon + 1));
    if (iequals_ascii(name, "content-length")) {
      std::size_t parsed = 0;
      const auto [p, e] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (e != std::errc() || p != value.data() + value.size() || value.empty() ||
          (has_length && parsed != length)) {
        return fail("the answer's Content-Length is malformed");
      }
      has_length = true;
      length = parsed;
    } else if (iequals_ascii(name, "transfer-encoding")) {
      chunked = has_token(value, "chunked");
    } else if (iequals_ascii(name, "connection")) {
      if (has_token(value, "close")) {
        m_answer.keep_alive = false;
      } else if (has_token(value, "keep-alive")) {
        m_answer.keep_alive = true;
      }
    } else if (iequals_ascii(name, "content-type")) {
      m_answer.content_type = std::string(value);
    }
  }

  if (status < 200) {
    // An interim answer (100 Continue, 103 Early Hints): the real one follows.
    m_phase = Phase::head;
    return State::need_more;
  }
  if (m_head_request || status == 204 || status == 304) {
    m_phase = Phase::done;
    return State::complete;
  }
  if (chunked) {
    m_phase = Phase::chunk_size;
  } else if (has_length) {
    if (length > m_max_body) {
      return fail("the answer's body is larger than " + std::to_string(m_max_body) + " bytes");
    }
    m_answer.body.reserve(length);
    m_remaining = length;
    m_phase = length == 0 ? Phase::done : Phase::body_length;
  } else {
    m_answer.keep_alive = false;  // the end of the connection ends the body
    m_phase = Phase::body_until_close;
  }
  return m_phase == Phase::done ? State::complete : State::need_more;
}

ResponseParser::State ResponseParser::feed(std::string_view data) {
  m_consumed = 0;
  if (!data.empty()) {
    m_started = true;
  }
  while (m_consumed < data.size() || m_phase == Phase::done) {
    auto input = data.substr(m_consumed);
    switch (m_phase) {
      case Phase::done:
        return State::complete;
      case Phase::head: {
        // Look for the blank line, also across reads (search from just
        // before what was already held).
        const auto held = m_line.size();
        // Hold at most one byte more than the limit, however the bytes came.
        const auto take = std::min(input.size(), k_max_header_line + 1 - held);
        m_line.append(input.substr(0, take));
        // The head ends at the first blank line, CRLF or bare LF.
        auto end = m_line.find("\r\n\r\n", held >= 3 ? held - 3 : 0);
        std::size_t terminator = 4;
        const auto bare = m_line.find("\n\n", held >= 1 ? held - 1 : 0);
        if (bare != std::string::npos && (end == std::string::npos || bare + 1 < end + 3)) {
          end = bare;
          terminator = 2;
        }
        if (end == std::string::npos) {
          if (m_line.size() > k_max_header_line) {
            return fail("the answer's headers are larger than " + std::to_string(k_max_header_line) + " bytes");
          }
          m_consumed += take;
          break;
        }
        const auto used = end + terminator - held;
        m_consumed += used;
        const std::string head = m_line.substr(0, end);
        m_line.clear();
        if (parse_head(head) == State::error) {
          return State::error;
        }
        break;
      }
      case Phase::body_length:
      case Phase::chunk_data: {
        const auto take = std::min(input.size(), m_remaining);
        m_answer.body.append(input.substr(0, take));
        m_remaining -= take;
        m_consumed += take;
        if (m_remaining == 0) {
          m_phase = m_phase == Phase::body_length ? Phase::done : Phase::chunk_data_end;
        }
        break;
      }
      case Phase::body_until_close:
        if (m_answer.body.size() + input.size() > m_max_body) {
          return fail("the answer's body is larger than " + std::to_string(m_max_body) + " bytes");
        }
        m_answer.body.append(input);
        m_consumed += input.size();
        break;
      case Phase::chunk_size:
      case Phase::trailers: {
        const auto nl = input.find('\n');
        if (nl == std::string_view::npos) {
          m_line.append(input);
          m_consumed += input.size();
          if (m_line.size() > 4096) {
            return fail("the answer's chunked coding is malformed");
          }
          break;
        }
        m_line.append(input.substr(0, nl));
        m_consumed += nl + 1;
        std::string_view line = m_line;
        if (!line.empty() && line.back() == '\r') {
          line.remove_suffix(1);
        }
        if (m_phase == Phase::trailers) {
          if (line.empty()) {
            m_phase = Phase::done;
          }
          m_line.clear();
          break;
        }
        line = trim_whitespace(line.substr(0, line.find(';')));
        std::size_t size = 0;
        const auto [p, e] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
        if (e != std::errc() || p != line.data() + line.size() || line.empty()) {
          return fail("the answer's chunked coding is malformed");
        }
        m_line.clear();
        if (size == 0) {
          m_phase = Phase::trailers;
        } else {
          if (m_answer.body.size() + size > m_max_body) {
            return fail("the answer's body is larger than " + std::to_string(m_max_body) + " bytes");
          }
          m_remaining = size;
          m_phase = Phase::chunk_data;
        }
        break;
      }
      case Phase::chunk_data_end: {
        // CRLF (or LF) after the chunk's data.
        const char c = input.front();
        m_consumed += 1;
        if (c == '\n') {
          m_phase = Phase::chunk_size;
        } else if (c != '\r') {
          return fail("the answer's chunked coding is malformed");
        }
        break;
      }
    }
  }
  return m_phase == Phase::done ? State::complete : State::need_more;
}

ResponseParser::State ResponseParser::finish() {
  if (m_phase == Phase::body_until_close || m_phase == Phase::done) {
    m_phase = Phase::done;
    return State::complete;
  }
  return fail(m_started ? "the connection closed in the middle of the answer"
                        : "the connection closed before an answer");
}

}  // namespace epilot
