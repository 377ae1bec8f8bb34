#pragma once

// The http layer's one word for an answer to a request: what the client and
// the response reader receive, and what the server sends (lib/http/server.hpp
// adds how to send it).

#include <string>
#include <vector>

#include "lib/http/header.hpp"

namespace epilot::http {

struct HttpResponse {
  int status = 0;
  // (The `= {}`s let an aggregate initializer leave them out without a
  // -Wmissing-field-initializers warning.)
  std::string body = {};
  std::string content_type = {};  // the Content-Type header; the server sends application/json when it is empty
  std::string reason = {};        // the reason phrase received (the server writes the standard one)
  bool keep_alive = true;         // received: false after `Connection: close` or an HTTP/1.0 answer without keep-alive
  // Every field of the head, in order: kept by a reader only when asked
  // (ResponseParser's keep_headers). The server writes them for an answer
  // it relays (ServerResponse::relayed), framing fields excepted.
  std::vector<Header> headers = {};
};

}  // namespace epilot::http
