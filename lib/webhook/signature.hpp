#pragma once

// Signing and verifying per Standard Webhooks: the signed content is
// `<webhook-id>.<webhook-timestamp>.<raw body>`, the header strings exactly as
// sent. `v1` is HMAC-SHA256, `v1a` Ed25519; `webhook-signature` is a
// space-separated list of `version,base64` entries.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/webhook/capture.hpp"
#include "lib/webhook/keys.hpp"

namespace epilot::webhook {

std::string signed_content(std::string_view id, std::string_view timestamp, std::string_view body);

// `msg_` + 32 lowercase hex digits, the shape epilot sends.
std::string generate_message_id(const util::RandomSource& random);

// The headers a signature travels in: webhook-id, -timestamp and -signature,
// and the svix-* names Svix's libraries read first. A request signed afresh
// carries none of the old ones.
bool is_signing_header(std::string_view name);

// One entry each: "v1,<base64>" and "v1a,<base64>".
std::string sign_v1(const Secret& secret, std::string_view id, std::string_view timestamp, std::string_view body);
std::string sign_v1a(const PrivateKey& key, std::string_view id, std::string_view timestamp, std::string_view body);

// --- Parsing `webhook-signature` ---

enum class EntryStatus {
  ok,               // a known version, canonical base64 of the right length
  unknown_version,  // skipped, as the spec requires
  no_comma,         // "abc" without "version,": skipped
  bad_base64,       // skipped
  wrong_length,     // decodes, but not to 32 (v1) or 64 (v1a) bytes: skipped
};

enum class Scheme { hmac, ed25519, unknown };

struct SignatureEntry {
  std::string version;  // as written ("v1", "v1s", "v1a", ...)
  std::string encoded;  // the part after the first comma
  Scheme scheme = Scheme::unknown;
  EntryStatus status = EntryStatus::ok;
  util::Bytes decoded;  // set when status is ok (or wrong_length, for display)
};

// Split on spaces (runs of spaces and empty tokens are skipped), then each
// entry on its first comma. Never fails: malformed entries are reported with
// their status so that diagnosis can name them.
std::vector<SignatureEntry> parse_signature_header(std::string_view value);

// The status in words, for people ("not valid base64, skipped"). Naming:
// to_code() gives a stable snake_case code that scripts match on,
// describe() prose that may change.
std::string_view describe(EntryStatus status);

// --- Verifying ---

struct NamedPublicKey {
  std::string name;  // how the user named it (a path, "whpk_…", "default")
  PublicKey key;
};

struct NamedSecret {
  std::string name;  // where the caller got it (an option, a variable, a path), never the secret itself
  Secret secret;
};

struct VerifyKeys {
  std::vector<NamedPublicKey> public_keys;
  std::vector<NamedSecret> secrets;
};

enum class TimestampCheck { enforce, skip };

struct VerifyPolicy {
  std::int64_t now = 0;  // unix seconds; passed in so results are reproducible
  std::int64_t tolerance = k_default_tolerance_seconds;
  TimestampCheck timestamp_check = TimestampCheck::enforce;
};

// The outcome, most fundamental failure first.
enum class Verdict {
  valid,
  missing_header,    // a webhook-* header is absent or empty
  malformed_header,  // repeated header, non-numeric or overflowing timestamp
  body_parsed,       // the capture logged its body parsed (Capture::body_parsed): no raw bytes to check
  timestamp_too_old,
  timestamp_too_new,
  signature_mismatch,  // no entry verifies under any supplied key
};

// Stable snake_case name, used in JSON output and the test vectors.
std::string_view to_code(Verdict verdict);

struct Match {
  std::size_t entry_index = 0;
  std::string version;
  std::string key_name;
};

struct Verification {
  Verdict verdict = Verdict::signature_mismatch;
  std::string problem_header;  // for missing_header / malformed_header
  std::string detail;          // a human sentence for the malformed cases
  std::string id;
  std::string timestamp_text;
  std::optional<std::int64_t> timestamp;
  std::int64_t age = 0;  // now - timestamp (negative: from the future)
  std::vector<SignatureEntry> entries;
  std::optional<Match> match;  // set when a signature verified, even if the time did not
  bool ok() const { return verdict == Verdict::valid; }
};

// The first entry of `entries` that verifies over the signed content of
// `id`, `timestamp` and `body` under one of `keys`, trying entries in order
// and, for each, every key of its scheme.
std::optional<Match> find_match(const std::vector<SignatureEntry>& entries, const VerifyKeys& keys, std::string_view id,
                                std::string_view timestamp, std::string_view body);

// Verify `request` under `keys`. The signature is checked even when the
// timestamp is out of tolerance, so the caller can say "signature valid, but
// too old".
Verification verify_request(const Capture& request, const VerifyKeys& keys, const VerifyPolicy& policy);

// What became of each entry of `result` (a verification under `keys`), as
// stable codes for reports: `verified`; `not_verified` (checked under every
// key of its scheme); `no_key` (no key of its scheme was used); `not_tried`
// (an earlier entry verified); `not_checked` (a header problem stopped the
// check before the signatures); or, for an entry skipped as unusable,
// `unknown_version`, `no_version`, `bad_base64`, `wrong_length`. Never "ok":
// an entry that did not verify never reads as if it had.
std::vector<std::string_view> entry_outcomes(const Verification& result, const VerifyKeys& keys);

// Parse a timestamp header: digits only, at most 18 of them.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

}  // namespace epilot::webhook
