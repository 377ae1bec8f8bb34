#include "lib/http/client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

#include "lib/util/bytes.hpp"
#include "lib/http/load_client.hpp"
#include "lib/http/wire.hpp"

namespace epilot {

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
      return make_error(ErrorCode::usage, "refusing plain http to " + parsed->host + ": only loopback hosts may "
                                          "be reached without TLS", {"use an https:// URL"});
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
          out.head = request_head(method, *parsed, plan.tls, content_type, body.size());
          out.body = body;
        },
        [&](unsigned, Delivered& d) { delivered = std::move(d); });
    EPILOT_TRY(ran);
    const auto what = method + " " + url;
    switch (delivered.delivery) {
      case Delivery::answered: {
        HttpResponse response;
        response.status = delivered.answer.status;
        response.body = std::move(delivered.answer.body);
        response.content_type = std::move(delivered.answer.content_type);
        return response;
      }
      case Delivery::timeout:
        return make_error(ErrorCode::timeout,
                          what + ": no answer within " + within(m_options.timeout));
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

  static std::string request_head(const std::string& method, const ParsedUrl& url, bool tls,
                                  const std::string& content_type, std::size_t body_size) {
    // Built with append: GCC 12 warns falsely (-Wrestrict) on chains of +.
    const bool ipv6 = url.host.find(':') != std::string::npos;
    std::string head = method;
    head.append(" ").append(url.target).append(" HTTP/1.1\r\nhost: ");
    head.append(ipv6 ? "[" : "").append(url.host).append(ipv6 ? "]" : "");
    if (url.port != (tls ? 443 : 80)) {
      head.append(":").append(std::to_string(url.port));
    }
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

std::string shown_url(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const auto scheme = url.find("://");
  const auto authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto path = url.find('/', authority);
  const auto at = url.substr(0, path).rfind('@');
  if (at != std::string_view::npos && at >= authority) {
    return std::string(url.substr(0, authority)) + std::string(url.substr(at + 1));
  }
  return std::string(url);
}

Result<ParsedUrl> parse_url(const std::string& url) {
  // A space, CR or LF would go onto the wire as it is and start a header
  // of the URL's choosing; bytes above 0x7e must be percent-encoded anyway.
  if (!wire::is_visible_ascii(url)) {
    return make_error(ErrorCode::usage, "the URL '" + wire::printable(url) +
                                            "' is empty or holds a space, a control byte or a byte outside ASCII",
                      {"percent-encode such characters (%20 for a space)"});
  }
  ParsedUrl out;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return make_error(ErrorCode::usage, "'" + url + "' is not an absolute URL (http:// or https://)");
  }
  out.scheme = url.substr(0, scheme_end);
  for (auto& c : out.scheme) {
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (out.scheme != "http" && out.scheme != "https") {
    return make_error(ErrorCode::usage, "unsupported URL scheme '" + out.scheme + "' in " + url);
  }
  const auto authority_start = scheme_end + 3;
  const auto path_start = url.find_first_of("/?#", authority_start);
  const auto authority = url.substr(authority_start, path_start == std::string::npos ? std::string::npos
                                                                                       : path_start - authority_start);
  out.target = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (const auto hash = out.target.find('#'); hash != std::string::npos) {
    out.target.erase(hash);
  }
  if (out.target.empty() || out.target[0] != '/') {
    out.target = std::string("/").append(out.target);
  }
  if (authority.find('@') != std::string::npos) {
    return make_error(ErrorCode::usage, "URLs with credentials are not supported");
  }
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      return make_error(ErrorCode::usage, "malformed IPv6 address in " + url);
    }
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return make_error(ErrorCode::usage, "malformed host in " + url);
      }
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (out.host.empty()) {
    return make_error(ErrorCode::usage, "no host in " + url);
  }
  for (char c : out.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("-._~%!$&'()*+,;=:").find(c) != std::string_view::npos;
    if (!ok) {
      return make_error(ErrorCode::usage, "malformed host in " + url);
    }
  }
  out.port = out.scheme == "https" ? 443 : 80;
  const bool colon_without_port = port_text.empty() && authority.size() > out.host.size() &&
                                  authority.back() == ':';
  if (colon_without_port) {
    return make_error(ErrorCode::usage, "the URL " + url + " has a ':' but no port after it");
  }
  if (!port_text.empty()) {
    int port = 0;
    const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 || port > 65535) {
      return make_error(ErrorCode::usage, "invalid port '" + port_text + "' in " + url);
    }
    out.port = port;
  }
  return out;
}

bool is_loopback_host(const std::string& host) {
  // The literal host, never a name that merely starts like an address
  // (127.evil.test resolves wherever its owner likes).
  if (iequals_ascii(host, "localhost")) {
    return true;
  }
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) {
      return true;
    }
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace epilot
