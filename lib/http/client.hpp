#pragma once

// HTTP as a parameter: lib/ code that talks to the network takes an
// HttpClient, so tests can pass their own, and the real one is chosen once,
// by the command line.

#include <chrono>
#include <memory>
#include <string>

#include "lib/http/response.hpp"
#include "lib/util/error.hpp"

namespace epilot::http {

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // GET `url`, once. Failures are ErrorCode::network (no connection, a
  // broken one), untrusted (the certificate), timeout, or protocol (no TLS
  // where the URL says https); any HTTP status is a response. Safe to call
  // from several threads at once.
  virtual Result<HttpResponse> get(const std::string& url) = 0;
  // POST `body` to `url`, the same way. Redirects are answers, never followed.
  virtual Result<HttpResponse> post(const std::string& url, const std::string& content_type,
                                    const std::string& body) = 0;
};

struct HttpOptions {
  std::string ca_cert;                       // extra trust anchors (PEM file); the system store otherwise
  std::chrono::milliseconds timeout{10000};  // connecting, sending and the whole answer
};

// The real client (lib/http/load_client over OpenSSL). TLS certificates and host names
// are always verified; plain http:// is refused except to loopback hosts.
std::unique_ptr<HttpClient> make_http_client(const HttpOptions& options);

}  // namespace epilot::http
