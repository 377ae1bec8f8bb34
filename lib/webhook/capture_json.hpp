#pragma once

// A capture's native form (what `sign` writes): a JSON object
//   {"method", "url", "headers", "body" | "body_base64"}
// where `headers` is an object, an array of [name, value] pairs or an array of
// {"name", "value"} objects.

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "lib/util/error.hpp"
#include "lib/webhook/capture.hpp"

namespace epilot::webhook {

Result<Capture> parse_capture_json(std::string_view data);

enum class JsonStyle { pretty, compact };

// The native JSON form; `body_base64` replaces `body` when the body is not
// valid UTF-8. Ends with a newline.
std::string write_capture_json(const Capture& capture, JsonStyle style);

// The same, as a document to add fields to (listen adds the verdict). Only
// declared here (json_fwd): a caller that uses the document includes
// <nlohmann/json.hpp> itself.
nlohmann::ordered_json capture_to_json(const Capture& capture);

}  // namespace epilot::webhook
