#pragma once

// HAR 1.2 (HTTP Archive) as exported by Chromium, Firefox, mitmproxy, Charles,
// Insomnia and Postman: every entry of `log.entries` becomes a Capture.

#include <string_view>
#include <vector>

#include "lib/webhook/capture.hpp"

namespace epilot::webhook {

// True if `data` looks like a HAR document (a JSON object with `log`).
bool looks_like_har(std::string_view data);

// Every request of a HAR document, in order. The body is
// `postData.text`, base64-decoded when `postData.encoding` is "base64".
// HTTP/2 pseudo-headers (`:authority`, ...) are dropped; a HAR without
// entries is an error.
Result<std::vector<Capture>> parse_har(std::string_view data);

}  // namespace epilot::webhook
