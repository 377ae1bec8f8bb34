#include "lib/epilot/input_kind.hpp"

#include <nlohmann/json.hpp>

#include "lib/epilot/templates.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/json.hpp"
#include "lib/webhook/har.hpp"
#include "lib/webhook/input_formats.hpp"

namespace epilot {

namespace {

Error not_json(const Error& error) {
  return make_error(ErrorCode::bad_input, "it starts as JSON but is not: " + error.message,
                    {"a payload is sent byte for byte, so it must be what you mean to send; "
                     "a capture must be whole"});
}
}  // namespace

Result<InputKind> classify_input(std::string_view data, std::string_view path) {
  const auto text = util::trim_whitespace(data.substr(data.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0));
  if (text.empty()) {
    return InputKind::payload;
  }
  if (text.front() != '{' && text.front() != '[') {
    return webhook::starts_with_request_line(text) ? InputKind::captures : InputKind::payload;
  }
  if (webhook::looks_like_har(text.substr(0, 64 * 1024))) {
    return InputKind::captures;
  }
  constexpr std::string_view k_request_suffix = ".request.json";
  const bool request_name =
      path.size() > k_request_suffix.size() && path.substr(path.size() - k_request_suffix.size()) == k_request_suffix;
  // JSON Lines are told by their first record.
  auto first = text;
  const auto format = webhook::detect_input_format(text.substr(0, 64 * 1024));
  const bool lines = format.ok() && *format == webhook::InputFormat::json_lines;
  if (lines) {
    first = util::trim_whitespace(text.substr(0, text.find('\n')));
  }
  auto doc = util::parse_json<nlohmann::json>(first);
  if (!doc) {
    // A template's placeholders may stand where a value goes ("n": {{unix}}):
    // it is JSON once filled.
    if (has_placeholders(text)) {
      return request_name ? InputKind::request_template : InputKind::payload;
    }
    // Valid, but nested too deep to read as a document: a payload is sent
    // as it is; a capture (its keys tell) is refused by the capture reader.
    if (const auto capture_keys = webhook::has_capture_keys(first)) {
      return *capture_keys ? InputKind::captures : (lines ? InputKind::payload_lines : InputKind::payload);
    }
    return not_json(doc.error());
  }
  // The request form has headers as a capture does; its name says which it is.
  if (!lines && request_name && doc->is_object() && !doc->contains("method") && !doc->contains("url")) {
    return InputKind::request_template;
  }
  // An array of captures (a log slurped by jq) is captures too.
  const bool captures = webhook::is_capture_object(*doc) ||
                        (doc->is_array() && !doc->empty() && webhook::is_capture_object(doc->front()));
  if (captures) {
    return InputKind::captures;
  }
  return lines ? InputKind::payload_lines : InputKind::payload;
}

}  // namespace epilot
