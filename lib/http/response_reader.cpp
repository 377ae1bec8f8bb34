#include "lib/http/response_reader.hpp"

#include "lib/util/bytes.hpp"

namespace epilot::http {

ResponseParser::ResponseParser(bool head_request, std::size_t max_body, bool keep_headers)
    : m_head_request(head_request), m_max_body(max_body), m_keep_headers(keep_headers) {}

void ResponseParser::reset() { *this = ResponseParser(m_head_request, m_max_body, m_keep_headers); }

ResponseParser::State ResponseParser::fail(std::string message) {
  m_error = std::move(message);
  return State::error;
}

ResponseParser::State ResponseParser::too_large() {
  return fail("the answer's body is larger than " + std::to_string(m_max_body) + " bytes");
}

ResponseParser::State ResponseParser::parse_head(std::string_view head) {
  auto fields = wire::parse_head(head);
  if (!fields) {
    return fail("the answer's head is malformed: " + fields.error().message);
  }
  auto line = wire::parse_status_line(fields->start_line);
  if (!line) {
    return fail(line.error().message);
  }
  auto framing = wire::response_framing(line->version, line->status, m_head_request, fields->fields);
  if (!framing) {
    return fail("the answer's framing is malformed: " + framing.error().message);
  }
  if (line->status < 200) {
    // An interim answer (100 Continue, 103 Early Hints): the real one
    // follows, unless the endpoint only ever sends these.
    if (++m_interim > wire::k_max_interim_answers) {
      return fail("the endpoint sent more than " + std::to_string(wire::k_max_interim_answers) +
                  " interim (1xx) answers");
    }
    m_phase = Phase::head;
    return State::need_more;
  }
  m_answer = HttpResponse{};
  m_answer.status = line->status;
  m_answer.reason = std::string(line->reason);
  m_answer.keep_alive = framing->keep_alive;
  for (const auto& f : fields->fields) {
    if (util::iequals_ascii(f.name, "content-type")) {
      m_answer.content_type = std::string(f.value);
    }
    if (m_keep_headers) {
      m_answer.headers.push_back({std::string(f.name), std::string(f.value)});
    }
  }
  return begin_body(*framing);
}

// Get ready for the body `framing` announces.
ResponseParser::State ResponseParser::begin_body(const wire::Framing& framing) {
  switch (framing.body) {
    case wire::BodyKind::none:
      m_phase = Phase::done;
      break;
    case wire::BodyKind::length:
      if (framing.length > m_max_body) {
        return too_large();
      }
      m_answer.body.reserve(framing.length);
      m_remaining = framing.length;
      m_phase = framing.length == 0 ? Phase::done : Phase::body_length;
      break;
    case wire::BodyKind::chunked:
      m_chunked.emplace(m_max_body);
      m_phase = Phase::chunked;
      break;
    case wire::BodyKind::until_close:
      m_phase = Phase::body_until_close;
      break;
  }
  return m_phase == Phase::done ? State::complete : State::need_more;
}

// Collect the head (the bytes of earlier reads are held in m_head).
ResponseParser::State ResponseParser::read_head(std::string_view input) {
  const auto held = m_head.size();
  // Hold at most one byte more than the limit, however the bytes came.
  const auto take = std::min(input.size(), wire::k_max_head + 1 - held);
  m_head.append(input.substr(0, take));
  const auto end = m_scanner.scan(m_head);
  if (!end || *end > wire::k_max_head) {
    if (m_head.size() > wire::k_max_head) {
      return fail("the answer's headers are larger than " + std::to_string(wire::k_max_head) + " bytes");
    }
    m_consumed += take;
    return State::need_more;
  }
  m_consumed += *end - held;
  const auto head = m_head.substr(m_scanner.start(), *end - m_scanner.start());
  m_head.clear();
  m_scanner.reset();
  return parse_head(head);
}

ResponseParser::State ResponseParser::feed(std::string_view data) {
  m_consumed = 0;
  if (!data.empty()) {
    m_started = true;
  }
  while (m_consumed < data.size() || m_phase == Phase::done) {
    const auto input = data.substr(m_consumed);
    switch (m_phase) {
      case Phase::done:
        return State::complete;
      case Phase::head:
        if (read_head(input) == State::error) {
          return State::error;
        }
        break;
      case Phase::body_length:
        read_body_length(input);
        break;
      case Phase::chunked:
        if (read_chunked(input) == State::error) {
          return State::error;
        }
        break;
      case Phase::body_until_close:
        if (m_answer.body.size() + input.size() > m_max_body) {
          return too_large();
        }
        m_answer.body.append(input);
        m_consumed += input.size();
        break;
    }
  }
  return m_phase == Phase::done ? State::complete : State::need_more;
}

// The body's bytes up to its Content-Length.
void ResponseParser::read_body_length(std::string_view input) {
  const auto take = std::min(input.size(), m_remaining);
  m_answer.body.append(input.substr(0, take));
  m_remaining -= take;
  m_consumed += take;
  if (m_remaining == 0) {
    m_phase = Phase::done;
  }
}

ResponseParser::State ResponseParser::read_chunked(std::string_view input) {
  std::size_t used = 0;
  const auto state = m_chunked->feed(input, m_answer.body, used);
  m_consumed += used;
  if (state == wire::ChunkedDecoder::State::error) {
    return m_chunked->too_large() ? too_large()
                                  : fail("the answer's chunked coding is malformed: " + m_chunked->error());
  }
  if (state == wire::ChunkedDecoder::State::done) {
    m_phase = Phase::done;
  }
  return State::need_more;
}

ResponseParser::State ResponseParser::finish() {
  if (m_phase == Phase::body_until_close || m_phase == Phase::done) {
    m_phase = Phase::done;
    return State::complete;
  }
  return fail(m_started ? "the connection closed in the middle of the answer"
                        : "the connection closed before an answer");
}

}  // namespace epilot::http
