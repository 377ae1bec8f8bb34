#pragma once

// Why a request did not verify: a list of reasons with stable codes, most
// likely first. Each is tested by trying what usually went wrong: the body
// re-encoded or its line ends changed, another key the tool knows of, the
// secret used the way some senders misuse it.

#include <string>
#include <string_view>
#include <vector>

#include "lib/webhook/capture.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot::webhook {

// The reason codes, declared in the order they are reported when several
// apply (diagnose_test pins it). Two come elsewhere: svix_headers comes
// first when svix-* headers stand in for missing webhook-* ones (then
// missing_header, then the reasons for the request read with them renamed);
// timestamp_not_canonical that does not explain the mismatch comes after
// diagnosis_limited, as an aside.
enum class ReasonCode {
  missing_header,
  svix_headers,
  malformed_header,
  body_parsed,
  timestamp_in_milliseconds,
  timestamp_too_old,
  timestamp_too_new,
  timestamp_not_canonical,
  signature_hex_encoded,
  body_base64_encoded,
  trailing_newline,  // any trailing whitespace added or removed
  line_endings_changed,
  body_reserialized,
  wrong_key,
  secret_format,
  malformed_signature_header,
  scheme_mismatch,
  signature_mismatch,  // when nothing above explains a mismatch
  diagnosis_limited,
  skipped_entries,
};

// The code as output shows it: stable, snake_case, the enumerator's name.
// Scripts match on it.
std::string_view to_code(ReasonCode code);

struct Reason {
  ReasonCode code;
  std::string message;  // one sentence for people
};

// Explain `result`, the verification of `request` under `keys`. `other_keys`
// are keys the tool knows of but was not asked to use (the default local
// keypair, the environment's secret, cached epilot keys): a match under one
// of them is reported as `wrong_key`, naming it. Empty for a valid request.
std::vector<Reason> explain(const Capture& request, const VerifyKeys& keys, const VerifyKeys& other_keys,
                            const VerifyPolicy& policy, const Verification& result);

}  // namespace epilot::webhook
