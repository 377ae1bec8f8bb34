#pragma once

// Reading HTTP/1.1 requests off a connection, for the server: bytes go in as
// the socket gives them, whole requests come out in order, or a refusal with
// the status to answer it with. Framing is lib/http/wire's; the limits are the
// server's. Kept apart from the sockets so that it can be fuzzed with any
// split of any bytes (tests/fuzz/fuzz_server_requests.cpp).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "lib/http/wire.hpp"

namespace epilot::http {

// A request the reader refused, with what could be read of it, so that
// the server can report it: the method and target when the request line
// parsed, otherwise the start of that line, made printable (it may hold any
// bytes a client sent).
struct Refusal {
  int status = 0;
  std::string error;  // a short code: "bad request"
  std::string message;
  std::string method;  // empty when the request line could not be read
  std::string target;
  std::string line;  // when `method` is empty: the start of the request line, escaped
};

struct RequestLimits {
  std::size_t max_head = wire::k_max_head;  // 431 beyond
  std::size_t max_body = 10 * 1024 * 1024;  // 413 beyond
};

class RequestReader {
 public:
  enum class Step { need_more, request, refuse };

  explicit RequestReader(RequestLimits limits) : m_limits(limits) {}

  // Read from the front of `in`, erasing what was used. `request` means
  // take_request() has one; `refuse` means the connection must be answered
  // refusal().status and closed; `need_more` means all of `in` that could
  // be used was (bytes beyond a head still arriving stay in `in`).
  Step next(std::string& in);

  wire::Request take_request();
  const wire::Framing& framing() const { return m_framing; }

  // A request has begun: some of its bytes (not just empty lines) came.
  bool started() const { return m_started; }
  // The client asked for 100 Continue and its body has not all come.
  bool wants_continue() const {
    return m_pending && m_framing.expect_continue && !m_complete && m_request.version == wire::Version::http11;
  }
  // How much of `in` the request under way can use: more is not read yet.
  std::size_t wanted() const;

  const Refusal& refusal() const { return m_refusal; }

  // Refuse the request under way from outside (the server's deadline ran
  // out): refusal() then describes it as far as `in`, the unread input,
  // shows it.
  void abandon(int status, std::string error, std::string message, std::string_view in);

 private:
  Step refuse(int status, std::string error, std::string message, std::string_view in);
  Step read_head(std::string& in);
  Step read_body(std::string& in);

  RequestLimits m_limits;
  wire::HeadScanner m_scanner;
  bool m_started = false;
  bool m_pending = false;   // the head is read, the body is arriving
  bool m_complete = false;  // a whole request waits in m_request
  wire::Request m_request;
  wire::Framing m_framing;
  std::optional<wire::ChunkedDecoder> m_chunked;
  Refusal m_refusal;
};

}  // namespace epilot::http
