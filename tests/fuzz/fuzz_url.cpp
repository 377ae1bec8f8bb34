// The URL parser behind --url: what it accepts has a host, a port in range
// and a target that starts with '/' and holds only visible ASCII, so that
// nothing in a URL can reach the wire as a new line or header.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lib/http/url.hpp"
#include "lib/http/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto url = epilot::http::parse_url(text);
  epilot::http::is_loopback_host(text);
  if (!url) {
    return 0;
  }
  if (url->host.empty() || url->port < 1 || url->port > 65535 || url->target.empty() || url->target[0] != '/' ||
      !epilot::http::wire::is_visible_ascii(url->target) || !epilot::http::wire::is_visible_ascii(url->host)) {
    std::abort();
  }
  // The host written back into a URL (brackets for IPv6) reads as the same host and port.
  const auto again = epilot::http::parse_url(url->scheme + "://" + epilot::http::host_header(*url) + "/");
  if (!again || again->host != url->host || again->port != url->port) {
    std::abort();
  }
  return 0;
}
