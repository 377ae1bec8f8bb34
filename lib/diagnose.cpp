#include "lib/diagnose.hpp"

namespace epilot {

namespace {

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void explain_entries(const Verification& result, const VerifyKeys& keys, std::vector<Reason>& out) {
  std::size_t hmac = 0;
  std::size_t ed25519 = 0;
  std::size_t skipped = 0;
  for (const auto& e : result.entries) {
    if (e.status != EntryStatus::ok) {
      ++skipped;
    } else if (e.scheme == Scheme::hmac) {
      ++hmac;
    } else {
      ++ed25519;
    }
  }
  if (hmac + ed25519 == 0) {
    std::string detail = result.entries.empty() ? "no entries" : "";
    for (const auto& e : result.entries) {
      detail += (detail.empty() ? "" : "; ") + std::string("'") + e.version + "," +
                e.encoded.substr(0, 12) + (e.encoded.size() > 12 ? "…" : "") + "' " +
                std::string(describe(e.status));
    }
    out.push_back({"malformed_signature_header",
                   "webhook-signature has no usable entry (" + detail + ")"});
    return;
  }
  if (hmac > 0 && ed25519 == 0 && keys.secrets.empty()) {
    out.push_back({"scheme_mismatch",
                   "the signature has only v1 (HMAC) entries but no secret was given; pass "
                   "--secret-file or set EPILOT_ACTION_SECRET"});
  } else if (ed25519 > 0 && hmac == 0 && keys.public_keys.empty()) {
    out.push_back({"scheme_mismatch",
                   "the signature has only v1a (Ed25519) entries but no public key was given; pass "
                   "--public-key"});
  }
  if (skipped > 0) {
    out.push_back({"skipped_entries", plural(skipped, "signature entry") +
                                          " could not be used (malformed or unknown version)"});
  }
}

}  // namespace

std::vector<Reason> explain(const Capture& request, const VerifyKeys& keys,
                            const VerifyPolicy& policy, const Verification& result) {
  std::vector<Reason> out;
  switch (result.verdict) {
    case Verdict::valid:
      return out;
    case Verdict::missing_header:
      out.push_back({"missing_header", result.detail});
      for (const auto& h : request.headers) {
        if (h.name.size() > k_svix_header_prefix.size() &&
            iequals_ascii(h.name.substr(0, k_svix_header_prefix.size()), k_svix_header_prefix)) {
          out.push_back({"svix_headers",
                         "the request carries svix-* headers; Standard Webhooks and epilot use "
                         "webhook-id, webhook-timestamp and webhook-signature"});
          break;
        }
      }
      return out;
    case Verdict::malformed_header:
      out.push_back({"malformed_header", result.detail});
      return out;
    case Verdict::timestamp_too_old:
    case Verdict::timestamp_too_new: {
      const bool old = result.verdict == Verdict::timestamp_too_old;
      const auto skew = old ? result.age : -result.age;
      out.push_back({std::string(verdict_code(result.verdict)),
                     "webhook-timestamp is " + std::to_string(skew) + " s " +
                         (old ? "in the past" : "in the future") + ", beyond the tolerance of " +
                         std::to_string(policy.tolerance) + " s" +
                         (result.match ? " (the signature itself is valid)" : "")});
      if (!result.match) {
        explain_entries(result, keys, out);
      }
      return out;
    }
    case Verdict::signature_mismatch: {
      out.push_back({"signature_mismatch",
                     "no entry of webhook-signature verifies under " +
                         plural(keys.public_keys.size(), "public key") + " and " +
                         plural(keys.secrets.size(), "secret") + " given"});
      explain_entries(result, keys, out);
      return out;
    }
  }
  return out;
}

}  // namespace epilot
