#include "lib/http.hpp"

#include <httplib.h>

#include <charconv>

namespace epilot {

namespace {

std::string describe(httplib::Error error, const HttpOptions& options) {
  switch (error) {
    case httplib::Error::Connection:
      return "could not connect";
    case httplib::Error::ConnectionTimeout:
      return "no connection within " + std::to_string(options.connect_timeout.count()) + " s";
    case httplib::Error::Read:
      return "no answer within " + std::to_string(options.read_timeout.count()) + " s, or the connection broke";
    case httplib::Error::Write:
      return "the connection broke while sending";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed";
    case httplib::Error::SSLLoadingCerts:
      return "the CA certificates could not be loaded";
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate is not trusted";
    default:
      return httplib::to_string(error);
  }
}

class HttplibClient : public HttpClient {
 public:
  explicit HttplibClient(HttpOptions options) : m_options(std::move(options)) {}

  Result<HttpResponse> get(const std::string& url) override {
    auto parsed = parse_url(url);
    EPILOT_TRY(parsed);
    if (parsed->scheme == "http" && !is_loopback_host(parsed->host)) {
      return make_error(ErrorCode::usage, "refusing plain http to " + parsed->host + ": only loopback hosts may "
                                          "be reached without TLS", {"use an https:// URL"});
    }
    // IPv6 literals go in brackets.
    const bool ipv6 = parsed->host.find(':') != std::string::npos;
    std::string origin = parsed->scheme;
    origin.append("://").append(ipv6 ? "[" : "").append(parsed->host).append(ipv6 ? "]" : "");
    origin.append(":").append(std::to_string(parsed->port));
    httplib::Client client(origin);
    client.set_connection_timeout(m_options.connect_timeout);
    client.set_read_timeout(m_options.read_timeout);
    client.set_write_timeout(m_options.read_timeout);
    client.set_follow_location(false);
    if (parsed->scheme == "https") {
      client.enable_server_certificate_verification(true);
      if (!m_options.ca_cert.empty()) {
        client.set_ca_cert_path(m_options.ca_cert);
      }
    }
    const auto result = client.Get(parsed->target);
    if (!result) {
      const auto error = result.error();
      const auto why = describe(error, m_options);
      std::vector<std::string> hints;
      if (error == httplib::Error::SSLServerVerification || error == httplib::Error::SSLConnection) {
        hints.push_back("for a server with a private CA, pass --ca-cert FILE");
      }
      return make_error(ErrorCode::network, "GET " + url + ": " + why, std::move(hints));
    }
    HttpResponse response;
    response.status = result->status;
    response.body = result->body;
    response.content_type = result->get_header_value("Content-Type");
    return response;
  }

 private:
  HttpOptions m_options;
};

}  // namespace

std::unique_ptr<HttpClient> make_http_client(const HttpOptions& options) {
  return std::make_unique<HttplibClient>(options);
}

Result<ParsedUrl> parse_url(const std::string& url) {
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
  out.port = out.scheme == "https" ? 443 : 80;
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
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace epilot
