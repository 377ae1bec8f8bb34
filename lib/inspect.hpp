#pragma once

// Everything about one request at a glance, as data: what `inspect` shows.

#include <nlohmann/json.hpp>

#include <cstdint>

#include "lib/capture.hpp"

namespace epilot {

// Describe `request` as of `now` (unix seconds): method and URL, headers
// (credentials shortened), webhook-id and its shape, the timestamp as a date
// and an age checked against `tolerance`, each signature entry, the
// x-epilot-token decoded (never verified, and marked so), the body and a
// summary of the custom-action payload. Keys are stable: scripts read them.
nlohmann::ordered_json inspect_request(const Capture& request, std::int64_t now, std::int64_t tolerance);

// A credential's value shortened to its first characters, for display.
std::string redact(std::string_view value);

}  // namespace epilot
