#include "lib/http/client.hpp"

#include "lib/http/load_client.hpp"
#include "lib/http/url.hpp"

namespace epilot::http {

namespace {

// "10 s", or "250 ms" for a timeout that is not whole seconds.
std::string within(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// One request over the same client `replay` uses (lib/http/load_client): non-blocking
// sockets and OpenSSL, certificates and host names always verified. It
// replaced cpp-httplib, whose library sets up OpenSSL in a static
// initialiser: every process paid for it, `verify` of one capture included.
class LoadgenClient : public HttpClient {
 public:
  explicit LoadgenClient(HttpOptions options) : m_options(std::move(options)) {}

  Result<HttpResponse> get(const std::string& url) override { return exchange("GET", url, "", ""); }

  Result<HttpResponse> post(const std::string& url, const std::string& content_type, const std::string& body) override {
    return exchange("POST", url, content_type, body);
  }

 private:
  // One request, one attempt; redirects are answers like any other, never followed.
  Result<HttpResponse> exchange(const std::string& method, const std::string& url, const std::string& content_type,
                                const std::string& body) {
    auto parsed = parse_url(url);
    EPILOT_TRY(parsed);
    if (parsed->scheme == "http" && !is_loopback_host(parsed->host)) {
      return make_error(ErrorCode::usage,
                        "refusing plain http to " + parsed->host +
                            ": only loopback hosts may "
                            "be reached without TLS",
                        {"use an https:// URL"});
    }
    LoadPlan plan;
    plan.host = parsed->host;
    plan.port = parsed->port;
    plan.tls = parsed->scheme == "https";
    plan.ca_cert = m_options.ca_cert;
    plan.total = 1;
    plan.retries = 0;  // the caller decides about retries (fetch_public_key does)
    plan.timeout = m_options.timeout;

    Delivered delivered;
    auto ran = run_load(
        plan,
        [&](unsigned, std::uint64_t, OutgoingRequest& out) {
          out.head = request_head(method, *parsed, content_type, body.size());
          out.body = body;
        },
        [&](unsigned, Delivered& d) { delivered = std::move(d); });
    EPILOT_TRY(ran);
    const auto what = method + " " + url;
    switch (delivered.delivery) {
      case Delivery::answered:
        return std::move(delivered.answer);
      case Delivery::timeout:
        return make_error(ErrorCode::timeout, what + ": no answer within " + within(m_options.timeout));
      case Delivery::unreachable:
      case Delivery::broken:
        break;
    }
    if (delivered.not_tls) {
      std::vector<std::string> hints;
      if (is_loopback_host(parsed->host)) {
        hints.push_back("a local server without TLS is reached with http://, not https://");
      }
      return make_error(ErrorCode::protocol, what + ": " + delivered.error, std::move(hints));
    }
    return make_error(delivered.untrusted ? ErrorCode::untrusted : ErrorCode::network, what + ": " + delivered.error);
  }

  static std::string request_head(const std::string& method, const ParsedUrl& url, const std::string& content_type,
                                  std::size_t body_size) {
    // Built with append: GCC 12 warns falsely (-Wrestrict) on chains of +.
    std::string head = method;
    head.append(" ").append(url.target).append(" HTTP/1.1\r\nhost: ").append(host_header(url));
    head.append("\r\naccept: application/json\r\n");
    if (method != "GET") {
      head.append("content-type: ").append(content_type).append("\r\ncontent-length: ");
      head.append(std::to_string(body_size)).append("\r\n");
    }
    head.append("connection: close\r\n\r\n");
    return head;
  }

  HttpOptions m_options;
};

}  // namespace

std::unique_ptr<HttpClient> make_http_client(const HttpOptions& options) {
  return std::make_unique<LoadgenClient>(options);
}

}  // namespace epilot::http
