#pragma once

// JSON from outside (captures, payloads, answers, tokens, key responses):
// parsed with its nesting bounded first. nlohmann parses iteratively, but its
// dump() and the diagnosis's re-encoders recurse, so a body of 100,000 '['
// would otherwise overflow the stack long after it was accepted.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lib/util/error.hpp"

namespace epilot::util {

// Deeper documents are refused; real payloads nest a dozen levels or so.
inline constexpr std::size_t k_max_json_depth = 128;

// An error (bad_input) when arrays and objects in `text` nest deeper than
// `max_depth`; a scan of the bytes, so it is safe on any input.
Status check_json_nesting(std::string_view text, std::size_t max_depth = k_max_json_depth);

// nlohmann's message for `e` without its "[json.exception...]" tag and
// without the "last read" excerpt, which would echo raw bytes.
std::string json_error_text(const std::exception& e);

// `text` parsed as JSON, or an error (bad_input) saying why not; never
// throws. The message has no prefix: callers say what was being read.
template <typename Json = nlohmann::ordered_json>
Result<Json> parse_json(std::string_view text) {
  EPILOT_TRY(check_json_nesting(text));
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for huge numbers
    return make_error(ErrorCode::bad_input, json_error_text(e));
  }
}

// The same for callers that only look for a shape: nlohmann's "discarded"
// value for anything unparsable or too deep.
template <typename Json = nlohmann::ordered_json>
Json parse_json_or_discarded(std::string_view text) {
  if (!check_json_nesting(text)) {
    return Json(Json::value_t::discarded);
  }
  return Json::parse(text, nullptr, false);
}

// `text`, valid JSON (the caller checked), laid out two spaces a level and
// otherwise unchanged: numbers, strings and repeated keys stay as they came,
// which a parse and a dump would not keep (1E2, 2^70, {"a":1,"a":2}).
std::string indent_json(std::string_view text);

// `text` as a JSON string literal; bytes that are not UTF-8 become U+FFFD,
// so this never throws (nlohmann's default dump does, on such bytes).
std::string json_quote(std::string_view text);

}  // namespace epilot::util
