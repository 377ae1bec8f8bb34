#pragma once

// What an input file is for, one meaning for every command. Telling a
// template from a payload takes the placeholder syntax (templates.hpp), so
// this lives in the epilot layer; lib/webhook/input_formats.hpp reads the
// requests themselves.

#include <string_view>

#include "lib/util/error.hpp"

namespace epilot {

// What a file is:
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

}  // namespace epilot
