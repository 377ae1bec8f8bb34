#include "lib/webhook/diagnose.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <optional>

#include "lib/http/wire.hpp"
#include "lib/util/base64.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/json.hpp"
#include "lib/util/timefmt.hpp"
#include "lib/webhook/capture_json.hpp"

namespace epilot::webhook {

namespace {

using Json = nlohmann::ordered_json;

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// JSON serialisers differ in separators, indentation and escaping; these are
// the ones webhook senders and receiving frameworks actually use.
struct JsonStyle {
  const char* label;
  const char* item_separator;
  const char* key_separator;
  int indent;  // < 0: one line
  bool ensure_ascii;
};

constexpr JsonStyle k_json_styles[] = {
    {"compact JSON (JSON.stringify)", ",", ":", -1, false},
    {"JSON indented by 2 (JSON.stringify(body, null, 2))", ",", ": ", 2, false},
    {"JSON indented by 4", ",", ": ", 4, false},
    {"JSON with spaces after ',' and ':' (Python json.dumps)", ", ", ": ", -1, true},
    {"compact ASCII-escaped JSON (Python json.dumps with separators)", ",", ":", -1, true},
    {"JSON with spaces after ',' and ':', UTF-8 kept", ", ", ": ", -1, false},
};

void serialise(const Json& value, const JsonStyle& style, int depth, std::string& out) {
  const auto newline = [&](int level) {
    if (style.indent >= 0) {
      out += '\n';
      out.append(static_cast<std::size_t>(style.indent) * static_cast<std::size_t>(level), ' ');
    }
  };
  // Separators carry no trailing space when a newline follows (JSON.stringify, json.dumps(indent=)).
  const std::string item_sep = style.indent >= 0 ? "," : style.item_separator;
  if (value.is_object() && !value.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) {
        out += item_sep;
      }
      first = false;
      newline(depth + 1);
      out += Json(key).dump(-1, ' ', style.ensure_ascii);
      out += style.key_separator;
      serialise(item, style, depth + 1, out);
    }
    newline(depth);
    out += '}';
  } else if (value.is_array() && !value.empty()) {
    out += '[';
    bool first = true;
    for (const auto& item : value) {
      if (!first) {
        out += item_sep;
      }
      first = false;
      newline(depth + 1);
      serialise(item, style, depth + 1, out);
    }
    newline(depth);
    out += ']';
  } else {
    out += value.dump(-1, ' ', style.ensure_ascii);
  }
}

std::string replace_all(const std::string& text, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto hit = text.find(from, pos);
    out.append(text, pos, hit == std::string::npos ? std::string::npos : hit - pos);
    if (hit == std::string::npos) {
      return out;
    }
    out.append(to);
    pos = hit + from.size();
  }
}

// Whitespace as a JSON string shows it: "\r\n", "\n\n", shortened past 16.
std::string escaped(std::string_view whitespace) {
  std::string out = "\"";
  for (const char c : whitespace.substr(0, 16)) {
    out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : " ";
  }
  return out + (whitespace.size() > 16 ? "...\"" : "\"");
}

struct BodyVariant {
  ReasonCode code;
  std::string message;
  std::string body;
};

// Bodies the sender may have signed instead of the one captured, most
// telling first: a newline or line-end change is a smaller edit than a
// re-encoding, so it is tried first.
std::vector<BodyVariant> body_variants(const std::string& body) {
  std::vector<BodyVariant> out;
  const auto add = [&](ReasonCode code, const std::string& message, std::string variant) {
    if (variant != body) {
      out.push_back({code, message, std::move(variant)});
    }
  };
  // A JSON body is never valid base64 (braces, quotes), so this costs nothing
  // on the usual body and names the Lambda case exactly.
  if (auto decoded = body.size() >= 4 ? util::base64_decode(body) : std::nullopt) {
    add(ReasonCode::body_base64_encoded,
        "the signature matches this body base64-decoded: the body was logged base64-encoded (as AWS "
        "Lambda and API Gateway deliver it with isBase64Encoded: true); decode it before verifying",
        std::string(util::as_chars(*decoded)));
  }
  add(ReasonCode::trailing_newline,
      "the signature matches this body with a newline added at the end (an editor or "
      "echo added or the receiver dropped one)",
      body + "\n");
  add(ReasonCode::trailing_newline, "the signature matches this body with CRLF added at the end", body + "\r\n");
  // Any run of trailing whitespace (jq's or an editor's newlines, a CR LF) is
  // a smaller edit than a re-encoding, so it is tried before those.
  const auto kept = body.find_last_not_of(" \t\r\n");
  const auto trailing = kept == std::string::npos ? body.size() : body.size() - kept - 1;
  if (trailing > 0) {
    add(ReasonCode::trailing_newline,
        "the signature matches this body without its trailing whitespace (" +
            escaped(std::string_view(body).substr(body.size() - trailing)) +
            "): something (jq, an editor, echo, a CRLF convention) added it after signing",
        body.substr(0, body.size() - trailing));
    // Signed with one final line end, received with more (or another).
    for (const char* end : {"\n", "\r\n"}) {
      add(ReasonCode::trailing_newline,
          "the signature matches this body with its trailing whitespace (" +
              escaped(std::string_view(body).substr(body.size() - trailing)) + ") replaced by " + escaped(end) +
              ": something changed the end of the body after signing",
          body.substr(0, body.size() - trailing) + end);
    }
  }
  if (body.find("\r\n") != std::string::npos) {
    add(ReasonCode::line_endings_changed, "the signature matches this body with CRLF line ends turned into LF",
        replace_all(body, "\r\n", "\n"));
  } else if (body.find('\n') != std::string::npos) {
    add(ReasonCode::line_endings_changed, "the signature matches this body with LF line ends turned into CRLF",
        replace_all(body, "\n", "\r\n"));
  }
  // JSON text never holds a NUL (nlohmann would stop reading there), and
  // too deep a body is not re-encoded at all (see explain_mismatch).
  if (body.find('\0') != std::string::npos) {
    return out;
  }
  const auto doc = util::parse_json_or_discarded<Json>(body);
  if (!doc.is_discarded()) {
    for (const auto& style : k_json_styles) {
      std::string text;
      serialise(doc, style, 0, text);
      if (text != body) {
        out.push_back({ReasonCode::body_reserialized,
                       std::string("the signature matches this body re-encoded as ") + style.label +
                           ": the body was parsed and serialised again after signing; verify the raw "
                           "bytes as received",
                       std::move(text)});
      }
    }
  }
  return out;
}

bool any_match(const Verification& result, const VerifyKeys& keys, const std::string& body) {
  return find_match(result.entries, keys, result.id, result.timestamp_text, body).has_value();
}

// Secrets used as some senders use them: the text itself as the HMAC key.
void explain_secret_format(const Verification& result, const VerifyKeys& keys, const std::string& body,
                           std::vector<Reason>& out) {
  for (const auto& s : keys.secrets) {
    const std::string& text = s.secret.text;
    const bool prefixed = text.rfind(k_prefix_secret, 0) == 0;
    const std::string bare = prefixed ? text.substr(k_prefix_secret.size()) : text;
    std::vector<std::pair<std::string, std::string>> variants = {
        {bare,
         "the signature was made with the secret's text as the HMAC key instead of its "
         "base64-decoded bytes"}};
    if (prefixed) {
      variants.push_back({text,
                          "the signature was made with the whole secret, 'whsec_' included, as "
                          "the HMAC key instead of the base64-decoded bytes after the prefix"});
    }
    for (const auto& [key_text, message] : variants) {
      VerifyKeys alt;
      alt.secrets.push_back({s.name, Secret{util::Bytes(key_text.begin(), key_text.end()), key_text}});
      if (any_match(result, alt, body)) {
        out.push_back({ReasonCode::secret_format, message + " (" + s.name + ")"});
        return;
      }
    }
  }
}

void explain_entries(const Verification& result, const VerifyKeys& keys, std::vector<Reason>& out,
                     std::vector<Reason>& trailing) {
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
      // As written: an entry without a comma has no version to put before one.
      const auto written = e.status == EntryStatus::no_comma ? e.encoded : e.version + "," + e.encoded;
      detail += (detail.empty() ? "" : "; ") + std::string("'") + http::wire::printable(written, 16) + "' " +
                std::string(describe(e.status));
    }
    out.push_back({ReasonCode::malformed_signature_header, "webhook-signature has no usable entry (" + detail + ")"});
    return;
  }
  if (hmac > 0 && ed25519 == 0 && keys.secrets.empty()) {
    out.push_back({ReasonCode::scheme_mismatch,
                   "the signature has only v1 (HMAC) entries, but no secret was used: verify with the "
                   "sender's whsec_ secret"});
  } else if (ed25519 > 0 && hmac == 0 && keys.public_keys.empty()) {
    out.push_back({ReasonCode::scheme_mismatch,
                   "the signature has only v1a (Ed25519) entries, but no public key was used: verify with "
                   "the sender's public key (epilot's, for requests from epilot)"});
  }
  if (skipped > 0) {
    trailing.push_back({ReasonCode::skipped_entries,
                        plural(skipped, "signature entry") + " could not be used (malformed or unknown version)"});
  }
}

// "a, b or c", or a count when there are too many names to read.
std::string key_names(const VerifyKeys& keys) {
  std::vector<std::string> names;
  for (const auto& k : keys.public_keys) {
    names.push_back(k.name);
  }
  for (const auto& s : keys.secrets) {
    names.push_back(s.name);
  }
  if (names.empty()) {
    return "no key at all";
  }
  if (names.size() > 3) {
    return "any of the " + plural(keys.public_keys.size(), "public key") + " and " +
           plural(keys.secrets.size(), "secret") + " used";
  }
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  }
  return out;
}

// Whether `keys` hold a key for a usable entry among `entries`: without one,
// "does not match" would claim a check that was never made.
bool can_check(const std::vector<SignatureEntry>& entries, const VerifyKeys& keys) {
  return std::any_of(entries.begin(), entries.end(), [&](const SignatureEntry& e) {
    return e.status == EntryStatus::ok &&
           (e.scheme == Scheme::hmac ? !keys.secrets.empty()
                                     : e.scheme != Scheme::unknown && !keys.public_keys.empty());
  });
}

const char* const k_no_key_for_it = "no key of its scheme was given, so it could not be checked";

// The timestamp as the Standard Webhooks libraries sign it (they parse the
// header and sign the integer): no '+', no leading zeros. Empty when `text`
// is already written so, or is no such number.
std::string canonical_timestamp(std::string_view text) {
  const auto digits = text.substr(0, 1) == "+" ? text.substr(1) : text;
  const auto value = parse_timestamp(digits);
  if (!value || std::to_string(*value) == text) {
    return {};
  }
  return std::to_string(*value);
}

// A non-canonical timestamp goes to `out` when it explains the mismatch, and
// to `aside` (said after the cause) when it does not.
void explain_timestamp_text(const Verification& result, const VerifyKeys& keys, const std::string& body,
                            std::vector<Reason>& out, std::vector<Reason>& aside) {
  const auto canonical = canonical_timestamp(result.timestamp_text);
  if (canonical.empty()) {
    return;
  }
  const auto match = find_match(result.entries, keys, result.id, canonical, body);
  (match ? out : aside)
      .push_back({ReasonCode::timestamp_not_canonical,
                  "webhook-timestamp '" + http::wire::printable(result.timestamp_text, 24) +
                      "' is not written as the plain integer " + canonical +
                      (match ? ": the signature matches with " + canonical +
                                   " in its place, so the sender signed the integer but wrote the header "
                                   "differently; the header must hold exactly the signed text"
                       : can_check(result.entries, keys)
                           ? "; the signature does not match with " + canonical + " in its place either"
                           : std::string("; ") + k_no_key_for_it)});
}

std::optional<util::Bytes> from_hex(std::string_view text) {
  const auto nibble = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  util::Bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    const int high = nibble(text[i]);
    const int low = nibble(text[i + 1]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<std::uint8_t>(high * 16 + low));
  }
  return text.size() % 2 == 0 ? std::optional(out) : std::nullopt;
}

// Entries of exactly the hex length of their signature (64 digits for v1,
// 128 for v1a): a sender that wrote digest('hex') instead of base64. Such an
// entry is never a usable base64 one, so it was skipped as the wrong length.
void explain_hex_entries(const Verification& result, const VerifyKeys& keys, const std::string& body,
                         std::vector<Reason>& out) {
  std::vector<SignatureEntry> as_hex;
  for (const auto& e : result.entries) {
    const auto size = e.scheme == Scheme::hmac ? k_hmac_size : k_ed25519_signature_size;
    auto bytes = e.status != EntryStatus::ok && e.scheme != Scheme::unknown && e.encoded.size() == 2 * size
                     ? from_hex(e.encoded)
                     : std::nullopt;
    if (bytes) {
      SignatureEntry decoded = e;
      decoded.status = EntryStatus::ok;
      decoded.decoded = std::move(*bytes);
      as_hex.push_back(std::move(decoded));
    }
  }
  if (as_hex.empty()) {
    return;
  }
  const auto match = find_match(as_hex, keys, result.id, result.timestamp_text, body);
  const auto& first = as_hex.front();
  out.push_back({ReasonCode::signature_hex_encoded,
                 "the " + first.version + " signature is written in hex (" + std::to_string(first.encoded.size()) +
                     " hex digits) where Standard Webhooks uses base64" +
                     (match ? "; decoded as hex it verifies under " + match->key_name +
                                  ": the sender must encode the signature in base64"
                      : can_check(as_hex, keys) ? std::string("; decoded as hex it does not verify either")
                                                : std::string("; ") + k_no_key_for_it)});
}

// Why no signature matched. Pushes at least one reason.
void explain_mismatch(const Capture& request, const VerifyKeys& keys, const VerifyKeys& other_keys,
                      const Verification& result, std::vector<Reason>& out) {
  const auto first = out.size();
  std::vector<Reason> trailing;
  if (!util::check_json_nesting(request.body)) {
    trailing.push_back({ReasonCode::diagnosis_limited, "the body nests deeper than " +
                                                           std::to_string(util::k_max_json_depth) +
                                                           " levels, so re-encodings of it were not tried"});
  }
  explain_timestamp_text(result, keys, request.body, out, trailing);
  explain_hex_entries(result, keys, request.body, out);
  for (const auto& variant : body_variants(request.body)) {
    if (any_match(result, keys, variant.body)) {
      out.push_back({variant.code, variant.message});
      break;
    }
  }
  if (const auto match = find_match(result.entries, other_keys, result.id, result.timestamp_text, request.body)) {
    out.push_back({ReasonCode::wrong_key, "the signature verifies under " + match->key_name +
                                              ", which was not among the keys given: is that the key you meant?"});
  }
  explain_secret_format(result, keys, request.body, out);
  explain_entries(result, keys, out, trailing);
  if (out.size() == first) {
    out.push_back({ReasonCode::signature_mismatch,
                   "no entry of webhook-signature verifies under " + key_names(keys) +
                       ", and no common mistake explains it: the request was signed with another key, or "
                       "its id, timestamp or body changed after signing"});
  }
  out.insert(out.end(), trailing.begin(), trailing.end());
}

// A 13-digit timestamp that, read as milliseconds, is no later than now:
// Date.now() where Math.floor(Date.now() / 1000) was meant.
bool in_milliseconds(const Verification& result, const VerifyPolicy& policy) {
  return result.timestamp && result.timestamp_text.size() == 13 &&
         *result.timestamp / 1000 <= policy.now + policy.tolerance;
}

// The timestamp reasons, when it is outside the tolerance.
void explain_time(const Verification& result, const VerifyPolicy& policy, std::vector<Reason>& out) {
  if (!result.timestamp || policy.timestamp_check == TimestampCheck::skip) {
    return;
  }
  const bool old = result.age > policy.tolerance;
  if (!old && -result.age <= policy.tolerance) {
    return;
  }
  const auto valid = result.match ? std::string(" (the signature itself is valid)") : std::string();
  if (!old && in_milliseconds(result, policy)) {
    const auto seconds = *result.timestamp / 1000;
    out.push_back({ReasonCode::timestamp_in_milliseconds,
                   "webhook-timestamp " + result.timestamp_text + " is in milliseconds; as seconds it would be " +
                       std::to_string(seconds) + " (" + util::iso8601(seconds) + ", " +
                       std::to_string(policy.now - seconds) +
                       " s before now): Standard Webhooks timestamps are unix seconds" + valid});
  }
  const auto skew = old ? result.age : -result.age;
  out.push_back({old ? ReasonCode::timestamp_too_old : ReasonCode::timestamp_too_new,
                 "webhook-timestamp is " + std::to_string(skew) + " s " + (old ? "in the past" : "in the future") +
                     ", beyond the tolerance of " + std::to_string(policy.tolerance) + " s" + valid});
}

bool is_svix_header(const http::Header& h) {
  return h.name.size() > k_svix_header_prefix.size() &&
         util::iequals_ascii(std::string_view(h.name).substr(0, k_svix_header_prefix.size()), k_svix_header_prefix);
}

// A request with svix-* headers where webhook-* ones are missing: say first
// what verifying it would give if they were named webhook-*, then why that
// fails too, if it does.
void explain_missing(const Capture& request, const VerifyKeys& keys, const VerifyKeys& other_keys,
                     const VerifyPolicy& policy, const Verification& result, std::vector<Reason>& out) {
  Capture renamed = request;
  bool mapped = false;
  for (const auto& [svix, standard] :
       {std::pair{k_svix_header_id, k_header_id}, std::pair{k_svix_header_timestamp, k_header_timestamp},
        std::pair{k_svix_header_signature, k_header_signature}}) {
    const auto* value = request.find_header(svix);
    if (value != nullptr && request.find_header(standard) == nullptr) {
      renamed.set_header(standard, *value);
      mapped = true;
    }
  }
  const Reason missing{ReasonCode::missing_header, result.detail};
  if (!mapped) {
    out.push_back(missing);
    if (std::any_of(request.headers.begin(), request.headers.end(), is_svix_header)) {
      out.push_back({ReasonCode::svix_headers,
                     "the request carries svix-* headers; Standard Webhooks and epilot use "
                     "webhook-id, webhook-timestamp and webhook-signature"});
    }
    return;
  }
  // Without the svix-* headers left, explaining the renamed request cannot come back here.
  std::erase_if(renamed.headers, is_svix_header);
  const auto again = verify_request(renamed, keys, policy);
  const std::string prefix = "the request carries svix-* headers where Standard Webhooks and epilot use webhook-*; ";
  if (again.ok()) {
    out.push_back({ReasonCode::svix_headers, prefix + "read as webhook-* headers, it verifies (" +
                                                 again.match->version + " under " + again.match->key_name +
                                                 "): the sender uses Svix's names for them"});
    out.push_back(missing);
    return;
  }
  out.push_back(
      {ReasonCode::svix_headers, prefix + "read as webhook-* headers, it does not verify either (the reasons follow)"});
  out.push_back(missing);
  for (auto& reason : explain(renamed, keys, other_keys, policy, again)) {
    if (reason.code != missing.code || reason.message != missing.message) {
      out.push_back(std::move(reason));
    }
  }
}

std::string body_parsed_message(const Capture& request, const Verification& result) {
  const auto* kind = request.body.substr(0, 1) == "[" ? "an array" : "an object";
  return std::string("the body was parsed before it was logged (the capture holds it as ") + kind +
         ", not as text); signatures cover the raw bytes; log the raw body" +
         (result.match ? "; its compact re-serialisation (JSON.stringify) does verify under " + result.match->key_name +
                             ", so the sender most likely sent exactly that"
                       : "; its compact re-serialisation (JSON.stringify) does not verify");
}

}  // namespace

std::string_view to_code(ReasonCode code) {
  switch (code) {
    case ReasonCode::missing_header:
      return "missing_header";
    case ReasonCode::svix_headers:
      return "svix_headers";
    case ReasonCode::malformed_header:
      return "malformed_header";
    case ReasonCode::body_parsed:
      return "body_parsed";
    case ReasonCode::timestamp_in_milliseconds:
      return "timestamp_in_milliseconds";
    case ReasonCode::timestamp_too_old:
      return "timestamp_too_old";
    case ReasonCode::timestamp_too_new:
      return "timestamp_too_new";
    case ReasonCode::timestamp_not_canonical:
      return "timestamp_not_canonical";
    case ReasonCode::signature_hex_encoded:
      return "signature_hex_encoded";
    case ReasonCode::body_base64_encoded:
      return "body_base64_encoded";
    case ReasonCode::trailing_newline:
      return "trailing_newline";
    case ReasonCode::line_endings_changed:
      return "line_endings_changed";
    case ReasonCode::body_reserialized:
      return "body_reserialized";
    case ReasonCode::wrong_key:
      return "wrong_key";
    case ReasonCode::secret_format:
      return "secret_format";
    case ReasonCode::malformed_signature_header:
      return "malformed_signature_header";
    case ReasonCode::scheme_mismatch:
      return "scheme_mismatch";
    case ReasonCode::signature_mismatch:
      return "signature_mismatch";
    case ReasonCode::diagnosis_limited:
      return "diagnosis_limited";
    case ReasonCode::skipped_entries:
      return "skipped_entries";
  }
  return "unknown";
}

std::vector<Reason> explain(const Capture& request, const VerifyKeys& keys, const VerifyKeys& other_keys,
                            const VerifyPolicy& policy, const Verification& result) {
  std::vector<Reason> out;
  switch (result.verdict) {
    case Verdict::valid:
      return out;
    case Verdict::missing_header:
      explain_missing(request, keys, other_keys, policy, result, out);
      return out;
    case Verdict::malformed_header:
      out.push_back({ReasonCode::malformed_header, result.detail});
      explain_timestamp_text(result, keys, request.body, out, out);
      return out;
    case Verdict::body_parsed:
      out.push_back({ReasonCode::body_parsed, body_parsed_message(request, result)});
      [[fallthrough]];
    case Verdict::timestamp_too_old:
    case Verdict::timestamp_too_new:
      explain_time(result, policy, out);
      if (!result.match) {
        explain_mismatch(request, keys, other_keys, result, out);
      }
      return out;
    case Verdict::signature_mismatch:
      explain_mismatch(request, keys, other_keys, result, out);
      return out;
  }
  return out;
}

}  // namespace epilot::webhook
