#include "lib/http/request_reader.hpp"

namespace epilot::http {

RequestReader::Step RequestReader::refuse(int status, std::string error, std::string message, std::string_view in) {
  abandon(status, std::move(error), std::move(message), in);
  return Step::refuse;
}

void RequestReader::abandon(int status, std::string error, std::string message, std::string_view in) {
  m_refusal = Refusal{status, std::move(error), std::move(message), {}, {}, {}};
  if (m_pending) {
    m_refusal.method = m_request.method;
    m_refusal.target = m_request.target;
    return;
  }
  // The head is still in `in`: its first line, if it is a request line,
  // says what was asked for even when a later line is what was wrong.
  auto line = in.substr(std::min(m_scanner.start(), in.size()));
  line = line.substr(0, std::min(line.find('\n'), std::size_t{4096}));
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (const auto parsed = wire::parse_request_line(line)) {
    m_refusal.method = std::string(parsed->method);
    m_refusal.target = std::string(parsed->target);
  } else {
    m_refusal.line = wire::printable(line);
  }
}

std::size_t RequestReader::wanted() const {
  const bool counted = m_pending && m_framing.body == wire::BodyKind::length;
  return (counted ? m_framing.length : m_limits.max_head) + 65536;
}

RequestReader::Step RequestReader::read_head(std::string& in) {
  const auto size = m_scanner.scan(in);
  if (!size || *size > m_limits.max_head) {
    if (in.size() > m_limits.max_head || (size && *size > m_limits.max_head)) {
      return refuse(431, "headers too large",
                    "the request head exceeds " + std::to_string(m_limits.max_head) + " bytes", in);
    }
    return Step::need_more;
  }
  const auto head = wire::parse_head(std::string_view(in).substr(m_scanner.start(), *size - m_scanner.start()));
  if (!head) {
    return refuse(400, "bad request", head.error().message, in);
  }
  const auto line = wire::parse_request_line(head->start_line);
  if (!line) {
    return refuse(400, "bad request", line.error().message, in);
  }
  if (!line->version) {
    return refuse(505, "http version not supported", "this server speaks HTTP/1.0 and HTTP/1.1 only", in);
  }
  if (const auto form = wire::check_target_form(*line); !form) {
    return refuse(400, "bad request", form.error().message, in);
  }
  const auto framing = wire::request_framing(*line->version, head->fields);
  if (!framing) {
    return refuse(400, "bad request", framing.error().message, in);
  }
  if (framing->body == wire::BodyKind::length && framing->length > m_limits.max_body) {
    return refuse(413, "too large", "the body exceeds " + std::to_string(m_limits.max_body) + " bytes", in);
  }
  m_request = wire::Request{};
  m_request.method = std::string(line->method);
  m_request.target = std::string(line->target);
  m_request.version = *line->version;
  m_request.headers.reserve(head->fields.size());
  for (const auto& f : head->fields) {
    m_request.headers.push_back(Header{std::string(f.name), std::string(f.value)});
  }
  m_framing = *framing;
  m_chunked.reset();
  if (framing->body == wire::BodyKind::chunked) {
    m_chunked.emplace(m_limits.max_body);
  }
  in.erase(0, *size);
  m_scanner.reset();
  m_pending = true;
  return Step::need_more;
}

RequestReader::Step RequestReader::read_body(std::string& in) {
  if (m_framing.body == wire::BodyKind::length) {
    if (in.size() < m_framing.length) {
      return Step::need_more;
    }
    m_request.body.assign(in, 0, m_framing.length);
    in.erase(0, m_framing.length);
  } else if (m_chunked) {
    std::size_t used = 0;
    const auto state = m_chunked->feed(in, m_request.body, used);
    in.erase(0, used);
    if (state == wire::ChunkedDecoder::State::error) {
      return m_chunked->too_large() ? refuse(413, "too large", m_chunked->error(), in)
                                    : refuse(400, "bad request", m_chunked->error(), in);
    }
    if (state == wire::ChunkedDecoder::State::need_more) {
      return Step::need_more;
    }
  }
  m_complete = true;
  return Step::request;
}

RequestReader::Step RequestReader::next(std::string& in) {
  if (!m_started) {
    // Empty lines between requests (some clients end a body with one) are
    // not a request: they must not start its clock. Only whole empty lines
    // ("\n", "\r\n") go, as HeadScanner skips them; a CR at the end waits
    // for the byte after it (found by fuzz_server_requests).
    std::size_t pos = 0;
    while (pos < in.size() && !m_started) {
      if (in[pos] == '\n') {
        pos += 1;
      } else if (in[pos] == '\r' && pos + 1 < in.size() && in[pos + 1] == '\n') {
        pos += 2;
      } else if (in[pos] == '\r' && pos + 1 == in.size()) {
        break;
      } else {
        m_started = true;
      }
    }
    in.erase(0, pos);
    if (!m_started) {
      return Step::need_more;
    }
  }
  if (!m_pending) {
    if (const auto step = read_head(in); step != Step::need_more || !m_pending) {
      return step;
    }
  }
  return read_body(in);
}

wire::Request RequestReader::take_request() {
  m_started = false;
  m_pending = false;
  m_complete = false;
  m_chunked.reset();
  return std::move(m_request);
}

}  // namespace epilot::http
