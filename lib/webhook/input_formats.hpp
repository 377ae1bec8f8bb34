#pragma once

// Requests from any input `verify`, `inspect` and `replay` accept, told apart
// by their first bytes: a JSON capture, JSON Lines of captures, a HAR
// archive, or a raw HTTP/1.1 request.

#include <optional>
#include <string_view>
#include <vector>

#include "lib/webhook/capture.hpp"

namespace epilot {

enum class InputFormat { json, json_lines, har, raw_http };

// What a file is, one meaning for every command:
//   captures          requests as captured (a JSON capture, JSON Lines or a
//                     JSON array of them, a HAR archive, a raw HTTP request);
//   request_template  a NAME.request.json: {"description"?, "headers", "body"};
//   payload           anything else: a body, sent or signed byte for byte,
//                     its placeholders filled when it has any;
//   payload_lines     JSON Lines whose records are not captures: a payload a line.
// A JSON object is a capture when it has "headers" or "body_base64", or a
// "body" beside "method" or "url"; an epilot payload has none of them.
enum class InputKind { captures, request_template, payload, payload_lines };

// Decide from the bytes and the file's name. Text that starts as JSON but is
// not (a capture cut short, say), and has no placeholder, is an error, not a
// payload.
Result<InputKind> classify_input(std::string_view data, std::string_view path);

// Decide the format from `prefix`, the start of the input; it must reach past
// the first line end when there is one (JSON Lines are told from one JSON
// capture by a complete object on the first line followed by more).
Result<InputFormat> detect_input_format(std::string_view prefix);

// Which requests of a browser or proxy export are webhook requests. A HAR
// archive holds a whole session (pages, scripts, API calls); its webhook
// requests are those carrying webhook-signature or webhook-id (or their
// svix-* names), or, when none does (an export made before signing), its
// POSTs. replay sends only these and verify checks only these.
enum class WebhookRule { webhook_headers, posts };

struct WebhookSelection {
  WebhookRule rule = WebhookRule::webhook_headers;
  std::vector<std::size_t> kept;  // indices into the requests, in order
};

WebhookSelection select_webhook_requests(const std::vector<Capture>& requests);

// Every request in `data`, whatever its format. A bad JSON Lines record is an
// error naming its line.
Result<std::vector<Capture>> parse_requests(std::string_view data);

// One JSON Lines record. Takes a fast path for the common shape (the keys
// `sign` writes, headers as an object) and falls back to the full reader, so
// the result and every error message are those of parse_capture_json.
Result<Capture> parse_capture_line(std::string_view line);

// The fast path alone: a capture, or nullopt when the line is not of the one
// shape it reads. Whatever it returns, parse_capture_json returns too (the
// fuzz target fuzz_capture_line checks exactly that).
std::optional<Capture> parse_capture_fast(std::string_view line);

// The same two, filling `capture` and reusing its buffers: the hot loop of a
// stream parses into one Capture per thread.
bool parse_capture_fast(std::string_view line, Capture& capture);
Status parse_capture_line(std::string_view line, Capture& capture);

}  // namespace epilot
