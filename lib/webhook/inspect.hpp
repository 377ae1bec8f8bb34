#pragma once

// Everything about one request at a glance, as data: what `inspect` shows.

#include <cstdint>
#include <string>
#include <string_view>

// Declarations only: a caller that reads the documents includes
// <nlohmann/json.hpp> itself.
#include <nlohmann/json_fwd.hpp>

#include "lib/util/error.hpp"
#include "lib/webhook/capture.hpp"

namespace epilot::webhook {

// Describe `request` as of `now` (unix seconds): method and URL, headers
// (credentials shortened), webhook-id and its shape, the timestamp as a date
// and an age checked against `tolerance`, each signature entry, the
// x-epilot-token decoded (never verified, and marked so), the body (and
// whether it was logged parsed, see Capture::body_parsed) and a summary of
// the custom-action payload. A svix-* header stands in for a missing
// webhook-* one (`header` names it; `svix_headers` lists those read). Keys
// are stable: scripts read them.
nlohmann::ordered_json inspect_request(const Capture& request, std::int64_t now, std::int64_t tolerance);

// True if `text` looks like a key rather than a request (PEM, whpk_, whsk_).
bool looks_like_key(std::string_view text);

// Describe a key: its kind, and for Ed25519 the fingerprint (SHA256 of the
// SPKI DER, as fetch-key shows it) and whpk_ form of the public key. Never
// any private material.
Result<nlohmann::ordered_json> inspect_key(std::string_view text);

// A credential's value shortened to its first characters, for display.
std::string redact(std::string_view value);

}  // namespace epilot::webhook
