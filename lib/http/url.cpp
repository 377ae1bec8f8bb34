#include "lib/http/url.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <optional>

#include "lib/http/wire.hpp"
#include "lib/util/bytes.hpp"

namespace epilot::http {

namespace {

// The scheme before "://", lowercased; `url` must hold "://".
Result<std::string> url_scheme(const std::string& url, std::size_t scheme_end) {
  auto scheme = url.substr(0, scheme_end);
  for (auto& c : scheme) {
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (scheme != "http" && scheme != "https") {
    return make_error(ErrorCode::usage, "unsupported URL scheme '" + scheme + "' in " + url);
  }
  return scheme;
}

// Path and query from `path_start` on, without the fragment, starting with '/'.
std::string url_target(const std::string& url, std::size_t path_start) {
  std::string target = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (const auto hash = target.find('#'); hash != std::string::npos) {
    target.erase(hash);
  }
  if (target.empty() || target[0] != '/') {
    target = std::string("/").append(target);
  }
  return target;
}

struct Authority {
  std::string host;
  std::string port;  // the text after the ':', if any
};

// Host and port text of `authority` ("h", "h:80", "[::1]:80").
Result<Authority> split_authority(const std::string& authority, const std::string& url) {
  Authority out;
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
      out.port = authority.substr(close + 2);
    }
    return out;
  }
  const auto colon = authority.rfind(':');
  out.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    out.port = authority.substr(colon + 1);
  }
  return out;
}

// A host of the characters RFC 3986 allows in a reg-name or an IP literal.
Status check_host(const std::string& host, const std::string& url) {
  if (host.empty()) {
    return make_error(ErrorCode::usage, "no host in " + url);
  }
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("-._~%!$&'()*+,;=:").find(c) != std::string_view::npos;
    if (!ok) {
      return make_error(ErrorCode::usage, "malformed host in " + url);
    }
  }
  return ok_status();
}

// The port `text` says (1..65535), or the scheme's `default_port` when it is empty.
Result<int> url_port(const std::string& text, int default_port, const std::string& url) {
  if (text.empty()) {
    return default_port;
  }
  int port = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || ptr != text.data() + text.size() || port < 1 || port > 65535) {
    return make_error(ErrorCode::usage, "invalid port '" + text + "' in " + url);
  }
  return port;
}

}  // namespace

Result<ParsedUrl> parse_url(const std::string& url) {
  // A space, CR or LF would go onto the wire as it is and start a header
  // of the URL's choosing; bytes above 0x7e must be percent-encoded anyway.
  if (!wire::is_visible_ascii(url)) {
    return make_error(
        ErrorCode::usage,
        "the URL '" + wire::printable(url) + "' is empty or holds a space, a control byte or a byte outside ASCII",
        {"percent-encode such characters (%20 for a space)"});
  }
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return make_error(ErrorCode::usage, "'" + url + "' is not an absolute URL (http:// or https://)");
  }
  ParsedUrl out;
  auto scheme = url_scheme(url, scheme_end);
  EPILOT_TRY(scheme);
  out.scheme = std::move(scheme).value();
  const auto authority_start = scheme_end + 3;
  const auto path_start = url.find_first_of("/?#", authority_start);
  const auto authority =
      url.substr(authority_start, path_start == std::string::npos ? std::string::npos : path_start - authority_start);
  out.target = url_target(url, path_start);
  if (authority.find('@') != std::string::npos) {
    return make_error(ErrorCode::usage, "URLs with credentials are not supported");
  }
  auto split = split_authority(authority, url);
  EPILOT_TRY(split);
  out.host = std::move(split->host);
  EPILOT_TRY(check_host(out.host, url));
  if (split->port.empty() && authority.size() > out.host.size() && authority.back() == ':') {
    return make_error(ErrorCode::usage, "the URL " + url + " has a ':' but no port after it");
  }
  auto port = url_port(split->port, out.scheme == "https" ? 443 : 80, url);
  EPILOT_TRY(port);
  out.port = *port;
  return out;
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

bool is_loopback_host(const std::string& host) {
  // The literal host, never a name that merely starts like an address
  // (127.evil.test resolves wherever its owner likes).
  if (util::iequals_ascii(host, "localhost")) {
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

std::string url_host(std::string_view host) {
  // Only an IPv6 address holds a ':' (a host name never does).
  if (host.find(':') == std::string_view::npos) {
    return std::string(host);
  }
  std::string out;
  out.reserve(host.size() + 2);
  return out.append("[").append(host).append("]");
}

std::string url_host_port(std::string_view host, int port) {
  return url_host(host).append(":").append(std::to_string(port));
}

std::string host_header(const ParsedUrl& url) {
  if (url.port == (url.scheme == "https" ? 443 : 80)) {
    return url_host(url.host);
  }
  return url_host_port(url.host, url.port);
}

}  // namespace epilot::http
