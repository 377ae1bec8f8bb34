#pragma once

// One HTTP request, byte-exact: the model every command works on, with the
// readers and writers for its on-disk forms.
//
// Native form (what `sign` writes): a JSON object
//   {"method", "url", "headers", "body" | "body_base64"}
// where `headers` is an object, an array of [name, value] pairs or an array of
// {"name", "value"} objects. Also read: a raw HTTP/1.1 request as captured off
// the wire (CRLF or LF, Content-Length, chunked transfer coding).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/util/error.hpp"
#include "lib/http/wire.hpp"

namespace epilot {

struct Capture {
  std::string method;
  std::string url;
  std::vector<Header> headers;
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

enum class CaptureFormat { json, raw_http };

// Guess the format of `data` from its first bytes.
Result<CaptureFormat> detect_capture_format(std::string_view data);

Result<Capture> parse_capture_json(std::string_view data);
Result<Capture> parse_raw_http(std::string_view data);
// A request a server received, as a capture (its URL made by request_url).
Capture capture_from_request(wire::Request&& request);

// A capture's URL for a request `target`: absolute with the Host header when
// the target is a path, the target itself otherwise.
std::string request_url(std::string_view target, const std::string* host);
// Detect the format, then parse.
Result<Capture> parse_capture(std::string_view data);

enum class JsonStyle { pretty, compact };

// The native JSON form; `body_base64` replaces `body` when the body is not
// valid UTF-8. Ends with a newline.
std::string write_capture_json(const Capture& capture, JsonStyle style);

// The same, as a document to add fields to (listen adds the verdict).
nlohmann::ordered_json capture_to_json(const Capture& capture);

// An HTTP/1.1 request as it would go on the wire (CRLF, Content-Length set).
std::string write_raw_http(const Capture& capture);

// Check that `name` is an HTTP token and `value` has no CR, LF or NUL.
Status validate_header(std::string_view name, std::string_view value);

}  // namespace epilot
