#include "lib/webhook/signature.hpp"

#include "lib/util/base64.hpp"

namespace epilot::webhook {

std::string signed_content(std::string_view id, std::string_view timestamp, std::string_view body) {
  std::string content;
  content.reserve(id.size() + timestamp.size() + body.size() + 2);
  content.append(id).append(1, '.').append(timestamp).append(1, '.').append(body);
  return content;
}

std::string generate_message_id(const util::RandomSource& random) {
  util::Bytes raw(k_message_id_random_size);
  random(raw.data(), raw.size());
  return std::string(k_prefix_message_id) + util::to_hex(raw);
}

std::string sign_v1(const Secret& secret, std::string_view id, std::string_view timestamp, std::string_view body) {
  const auto mac = util::hmac_sha256(secret.bytes, {id, ".", timestamp, ".", body});
  return std::string(k_version_hmac) + "," + util::base64_encode(util::Bytes(mac.begin(), mac.end()));
}

std::string sign_v1a(const PrivateKey& key, std::string_view id, std::string_view timestamp, std::string_view body) {
  const auto sig = util::ed25519_sign(key.seed, key.public_key.bytes, signed_content(id, timestamp, body));
  return std::string(k_version_ed25519) + "," + util::base64_encode(util::Bytes(sig.begin(), sig.end()));
}

std::vector<SignatureEntry> parse_signature_header(std::string_view value) {
  std::vector<SignatureEntry> entries;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    auto next = value.find(' ', pos);
    if (next == std::string_view::npos) {
      next = value.size();
    }
    const auto token = value.substr(pos, next - pos);
    pos = next + 1;
    if (token.empty()) {
      continue;
    }
    SignatureEntry entry;
    const auto comma = token.find(',');
    if (comma == std::string_view::npos) {
      entry.encoded = std::string(token);
      entry.status = EntryStatus::no_comma;
      entries.push_back(std::move(entry));
      continue;
    }
    entry.version = std::string(token.substr(0, comma));
    entry.encoded = std::string(token.substr(comma + 1));
    std::size_t expected = 0;
    if (entry.version == k_version_hmac || entry.version == k_version_hmac_alias) {
      entry.scheme = Scheme::hmac;
      expected = k_hmac_size;
    } else if (entry.version == k_version_ed25519) {
      entry.scheme = Scheme::ed25519;
      expected = k_ed25519_signature_size;
    } else {
      entry.status = EntryStatus::unknown_version;
      entries.push_back(std::move(entry));
      continue;
    }
    auto decoded = util::base64_decode(entry.encoded);
    if (!decoded) {
      entry.status = EntryStatus::bad_base64;
    } else if (decoded->size() != expected) {
      entry.status = EntryStatus::wrong_length;
      entry.decoded = std::move(*decoded);  // kept for display; never compared
    } else {
      entry.decoded = std::move(*decoded);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string_view describe(EntryStatus status) {
  switch (status) {
    case EntryStatus::ok:
      return "ok";
    case EntryStatus::unknown_version:
      return "unknown version, skipped";
    case EntryStatus::no_comma:
      return "no 'version,' prefix, skipped";
    case EntryStatus::bad_base64:
      return "not valid base64, skipped";
    case EntryStatus::wrong_length:
      return "wrong length, skipped";
  }
  return "?";
}

std::string_view to_code(Verdict verdict) {
  switch (verdict) {
    case Verdict::valid:
      return "valid";
    case Verdict::missing_header:
      return "missing_header";
    case Verdict::malformed_header:
      return "malformed_header";
    case Verdict::timestamp_too_old:
      return "timestamp_too_old";
    case Verdict::timestamp_too_new:
      return "timestamp_too_new";
    case Verdict::body_parsed:
      return "body_parsed";
    case Verdict::signature_mismatch:
      return "signature_mismatch";
  }
  return "?";
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  if (text.empty() || text.size() > k_max_timestamp_digits) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

namespace {

// Copy header `name` into `out`, or record in `result` why it is missing,
// empty or repeated and return false.
bool find_required(const Capture& request, std::string_view name, std::string& out, Verification& result) {
  const auto count = request.count_header(name);
  if (count > 1) {
    result.verdict = Verdict::malformed_header;
    result.problem_header = std::string(name);
    result.detail = std::string(name) + " appears " + std::to_string(count) + " times";
    return false;
  }
  const auto* value = request.find_header(name);
  if (value == nullptr || value->empty()) {
    result.verdict = Verdict::missing_header;
    result.problem_header = std::string(name);
    result.detail = std::string(name) + (value == nullptr ? " is missing" : " is empty");
    return false;
  }
  out = *value;
  return true;
}

}  // namespace

std::optional<Match> find_match(const std::vector<SignatureEntry>& entries, const VerifyKeys& keys, std::string_view id,
                                std::string_view timestamp, std::string_view body) {
  std::string content;  // built once, and only if an Ed25519 entry needs it
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& entry = entries[i];
    if (entry.status != EntryStatus::ok) {
      continue;
    }
    if (entry.scheme == Scheme::hmac) {
      for (const auto& secret : keys.secrets) {
        const auto mac = util::hmac_sha256(secret.secret.bytes, {id, ".", timestamp, ".", body});
        if (util::constant_time_equal(mac.data(), entry.decoded.data(), mac.size())) {
          return Match{i, entry.version, secret.name};
        }
      }
    } else if (entry.scheme == Scheme::ed25519 && !keys.public_keys.empty()) {
      if (content.empty()) {
        content = signed_content(id, timestamp, body);
      }
      for (const auto& key : keys.public_keys) {
        if (util::ed25519_verify(key.key.bytes, content, entry.decoded.data())) {
          return Match{i, entry.version, key.name};
        }
      }
    }
  }
  return std::nullopt;
}

Verification verify_request(const Capture& request, const VerifyKeys& keys, const VerifyPolicy& policy) {
  Verification result;
  std::string signature;
  if (!find_required(request, k_header_id, result.id, result) ||
      !find_required(request, k_header_timestamp, result.timestamp_text, result) ||
      !find_required(request, k_header_signature, signature, result)) {
    if (const auto* sig = request.find_header(k_header_signature)) {
      result.entries = parse_signature_header(*sig);
    }
    return result;
  }
  result.entries = parse_signature_header(signature);
  result.timestamp = parse_timestamp(result.timestamp_text);
  if (!result.timestamp) {
    result.verdict = Verdict::malformed_header;
    result.problem_header = std::string(k_header_timestamp);
    result.detail =
        "webhook-timestamp '" + result.timestamp_text + "' is not a number of seconds (digits only, at most 18)";
    return result;
  }
  result.age = policy.now - *result.timestamp;
  result.match = find_match(result.entries, keys, result.id, result.timestamp_text, request.body);
  // A match over a re-serialised body proves only what it was re-serialised
  // into; the capture cannot pass, but `match` still tells whether it would.
  if (request.body_parsed) {
    result.verdict = Verdict::body_parsed;
    return result;
  }
  if (policy.timestamp_check == TimestampCheck::enforce) {
    if (result.age > policy.tolerance) {
      result.verdict = Verdict::timestamp_too_old;
      return result;
    }
    if (-result.age > policy.tolerance) {
      result.verdict = Verdict::timestamp_too_new;
      return result;
    }
  }
  result.verdict = result.match ? Verdict::valid : Verdict::signature_mismatch;
  return result;
}

std::vector<std::string_view> entry_outcomes(const Verification& result, const VerifyKeys& keys) {
  const bool checked = result.verdict != Verdict::missing_header && result.verdict != Verdict::malformed_header;
  std::vector<std::string_view> out;
  out.reserve(result.entries.size());
  for (std::size_t i = 0; i < result.entries.size(); ++i) {
    const auto& e = result.entries[i];
    switch (e.status) {
      case EntryStatus::unknown_version:
        out.emplace_back("unknown_version");
        continue;
      case EntryStatus::no_comma:
        out.emplace_back("no_version");
        continue;
      case EntryStatus::bad_base64:
        out.emplace_back("bad_base64");
        continue;
      case EntryStatus::wrong_length:
        out.emplace_back("wrong_length");
        continue;
      case EntryStatus::ok:
        break;
    }
    const bool have_key = e.scheme == Scheme::hmac ? !keys.secrets.empty() : !keys.public_keys.empty();
    if (!checked) {
      out.emplace_back("not_checked");
    } else if (result.match && result.match->entry_index == i) {
      // A parsed body was matched as re-encoded: not the bytes received.
      out.emplace_back(result.verdict == Verdict::body_parsed ? "matches_reencoded_body" : "verified");
    } else if (result.match && result.match->entry_index < i) {
      out.emplace_back("not_tried");  // find_match stops at the first entry that verifies
    } else {
      out.emplace_back(have_key ? "not_verified" : "no_key");
    }
  }
  return out;
}

bool is_signing_header(std::string_view name) {
  for (const auto known : {k_header_id, k_header_timestamp, k_header_signature, k_svix_header_id,
                           k_svix_header_timestamp, k_svix_header_signature}) {
    if (util::iequals_ascii(name, known)) {
      return true;
    }
  }
  return false;
}

}  // namespace epilot::webhook
