#pragma once

// Requests from any input `verify`, `inspect` and `replay` accept, told apart
// by their first bytes: a JSON capture, JSON Lines of captures, a HAR
// archive, or a raw HTTP/1.1 request.

#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "lib/webhook/capture.hpp"

namespace epilot::webhook {

enum class CaptureFormat { json, raw_http };

// Guess the format of one capture `data` from its first bytes.
Result<CaptureFormat> detect_capture_format(std::string_view data);

// One capture in either format: detect it, then parse.
Result<Capture> parse_capture(std::string_view data);

enum class InputFormat { json, json_lines, har, raw_http };

// What tells a capture from other input, for classify_input (which knows
// templates too, so it lives in lib/epilot/input_kind.hpp). A JSON object is
// a capture when it has "headers" or "body_base64", or a "body" beside
// "method" or "url"; an epilot payload has none of them.
bool is_capture_object(const nlohmann::json& doc);
// The same test on the top-level keys of JSON `text`, read without building
// the document (so at any depth); nullopt when `text` is not JSON.
std::optional<bool> has_capture_keys(std::string_view text);
// A request line ("POST /hook HTTP/1.1") first: raw HTTP, not text that
// happens to start with a capital.
bool starts_with_request_line(std::string_view data);

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

}  // namespace epilot::webhook
