#pragma once

// Reading an HTTP/1.1 response as it arrives, for `replay`'s client: bytes go
// in as the socket gives them, a complete response comes out. Interim 1xx
// answers are skipped; bodies are framed by Content-Length, chunked coding,
// or the end of the connection. Limits keep a hostile endpoint from making
// the client buffer without end.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "lib/http/response.hpp"
#include "lib/http/wire.hpp"

namespace epilot::http {

class ResponseParser {
 public:
  enum class State { need_more, complete, error };

  // `head_request` answers have no body, whatever their headers say.
  // `keep_headers` keeps every field in answer().headers (a proxy relays
  // them; replay needs only the status, the type and the body).
  explicit ResponseParser(bool head_request = false, std::size_t max_body = 16 * 1024 * 1024,
                          bool keep_headers = false);

  // Consume `data`; returns how far it got. On `complete`, bytes after the
  // response are left unconsumed in `data` (`consumed()` says how many were
  // used); an answer the client did not ask for is the caller's to judge.
  State feed(std::string_view data);
  // The connection ended: completes a body that runs to the end of the
  // connection, and is an error anywhere else.
  State finish();

  std::size_t consumed() const { return m_consumed; }
  bool started() const { return m_started; }  // any byte of an answer seen
  const HttpResponse& answer() const { return m_answer; }
  HttpResponse& answer() { return m_answer; }
  const std::string& error() const { return m_error; }

  // Start over for the next answer on the same connection.
  void reset();

 private:
  enum class Phase { head, body_length, chunked, body_until_close, done };

  State read_head(std::string_view input);
  State parse_head(std::string_view head);
  State begin_body(const wire::Framing& framing);
  void read_body_length(std::string_view input);
  State read_chunked(std::string_view input);
  State fail(std::string message);
  State too_large();

  bool m_head_request;
  std::size_t m_max_body;
  bool m_keep_headers;
  Phase m_phase = Phase::head;
  std::string m_head;  // the head so far
  wire::HeadScanner m_scanner;
  std::optional<wire::ChunkedDecoder> m_chunked;
  unsigned m_interim = 0;  // 1xx answers so far
  std::size_t m_remaining = 0;
  std::size_t m_consumed = 0;
  bool m_started = false;
  HttpResponse m_answer;
  std::string m_error;
};

}  // namespace epilot::http
