#pragma once

// Why a request did not verify: a list of reasons with stable codes, most
// likely first. Each is tested by trying what usually went wrong: the body
// re-encoded or its line ends changed, another key the tool knows of, the
// secret used the way some senders misuse it.

#include <string>
#include <vector>

#include "lib/webhook/capture.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot {

struct Reason {
  std::string code;     // stable, snake_case: scripts may match on it
  std::string message;  // one sentence for people
};

// The reason codes, in the order they are reported when several apply.
//   svix_headers (whether the request verifies with them read as webhook-*),
//   missing_header, malformed_header, body_parsed,
//   timestamp_in_milliseconds, timestamp_too_old, timestamp_too_new,
//   timestamp_not_canonical, signature_hex_encoded,
//   body_base64_encoded, trailing_newline (any trailing whitespace),
//   line_endings_changed, body_reserialized,
//   wrong_key, secret_format, scheme_mismatch, malformed_signature_header,
//   signature_mismatch (when nothing above explains a mismatch),
//   skipped_entries, diagnosis_limited
// When svix-* headers stand in for webhook-* ones, the reasons of the request
// read with them renamed follow missing_header.

// Explain `result`, the verification of `request` under `keys`. `other_keys`
// are keys the tool knows of but was not asked to use (the default local
// keypair, the environment's secret, cached epilot keys): a match under one
// of them is reported as `wrong_key`, naming it. Empty for a valid request.
std::vector<Reason> explain(const Capture& request, const VerifyKeys& keys,
                            const VerifyKeys& other_keys, const VerifyPolicy& policy,
                            const Verification& result);

}  // namespace epilot
