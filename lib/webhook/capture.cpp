#include "lib/webhook/capture.hpp"

#include "lib/util/base64.hpp"
#include "lib/util/bytes.hpp"

namespace epilot::webhook {

const std::string* Capture::find_header(std::string_view name) const {
  for (const auto& h : headers) {
    if (util::iequals_ascii(h.name, name)) {
      return &h.value;
    }
  }
  return nullptr;
}

std::size_t Capture::count_header(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& h : headers) {
    n += util::iequals_ascii(h.name, name) ? 1 : 0;
  }
  return n;
}

void Capture::set_header(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const http::Header& h) { return util::iequals_ascii(h.name, name); });
  headers.push_back(http::Header{std::string(name), std::move(value)});
}

std::optional<std::string> decoded_event_body(const Capture& capture) {
  if (!capture.body_base64_event) {
    return std::nullopt;
  }
  auto bytes = util::base64_decode(capture.body);
  if (!bytes) {
    return std::nullopt;
  }
  return std::string(util::as_chars(*bytes));
}

Capture capture_from_request(http::wire::Request&& request) {
  Capture capture;
  capture.method = std::move(request.method);
  capture.headers = std::move(request.headers);
  capture.body = std::move(request.body);
  capture.url = request_url(request.target, capture.find_header("host"));
  return capture;
}

std::string request_url(std::string_view target, const std::string* host) {
  // A Host that could not be part of a URL (a space, a byte above 0x7e, a
  // slash) is left out: the capture must stay readable (its url is checked).
  const bool usable =
      host != nullptr && http::wire::is_visible_ascii(*host) && host->find_first_of("/?#@\\") == std::string::npos;
  if (target.substr(0, 1) == "/" && usable) {
    return "http://" + *host + std::string(target);
  }
  return std::string(target);
}

}  // namespace epilot::webhook
