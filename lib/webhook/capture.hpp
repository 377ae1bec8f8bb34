#pragma once

// One HTTP request, byte-exact: the model every command works on. Its file
// forms live beside it: the native JSON form in capture_json.hpp, a raw
// HTTP/1.1 request in raw_http.hpp; input_formats.hpp tells them apart.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/http/wire.hpp"

namespace epilot::webhook {

struct Capture {
  std::string method;
  std::string url;
  std::vector<http::Header> headers;
  std::string body;  // raw bytes, never re-serialised (but see body_parsed)
  // True when the capture file held `body` as a JSON object or array rather
  // than a string: whoever logged the request had parsed its body first (the
  // Express log `{headers, body: req.body}`), so the raw bytes are lost.
  // `body` then holds the compact serialisation (what JSON.stringify writes),
  // which is what the sender most likely signed but cannot be trusted to be.
  // verify reports such a capture as `body_parsed`; a sender of it must warn.
  bool body_parsed = false;
  // True when the capture is an AWS Lambda / API Gateway event that says
  // `"isBase64Encoded": true`: `body` is then the base64 text of the bytes
  // received, kept as captured (verify explains it as body_base64_encoded);
  // a sender decodes it with decoded_event_body().
  bool body_base64_event = false;

  // First value of header `name` (case-insensitive), or nullptr.
  const std::string* find_header(std::string_view name) const;
  std::size_t count_header(std::string_view name) const;
  // Replace every header `name` with one `value`, or append it.
  void set_header(std::string_view name, std::string value);
};

// For a body_base64_event capture: its body decoded, the bytes the event
// stands for; nullopt when it is not valid base64 (or not such a capture).
std::optional<std::string> decoded_event_body(const Capture& capture);

// A request a server received, as a capture (its URL made by request_url).
Capture capture_from_request(http::wire::Request&& request);

// A capture's URL for a request `target`: absolute with the Host header when
// the target is a path, the target itself otherwise.
std::string request_url(std::string_view target, const std::string* host);

}  // namespace epilot::webhook
