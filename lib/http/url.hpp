#pragma once

// Absolute http(s) URLs: splitting them, showing them without their secrets,
// and writing a host back into one.

#include <string>
#include <string_view>

#include "lib/util/error.hpp"

namespace epilot::http {

struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  int port = 0;
  std::string target;  // path and query, at least "/"
};

// Split an absolute http(s) URL; errors are ErrorCode::usage.
Result<ParsedUrl> parse_url(const std::string& url);

// A URL as it may be shown: scheme, host and path. The query and fragment
// are left out, and so is a user:password@, as they may carry a credential.
std::string shown_url(std::string_view url);

// True for 127.0.0.0/8, ::1 and localhost.
bool is_loopback_host(const std::string& host);

// `host` as a URL or a Host header writes it: an IPv6 address in brackets
// ("[::1]"), anything else as it is.
std::string url_host(std::string_view host);

// "host:port" with url_host()'s brackets ("[::1]:8080", "127.0.0.1:80").
std::string url_host_port(std::string_view host, int port);

// The Host header's value for `url`: its host, and its port unless the
// scheme's default.
std::string host_header(const ParsedUrl& url);

}  // namespace epilot::http
