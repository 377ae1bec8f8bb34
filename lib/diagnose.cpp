#include "lib/diagnose.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>

#include "lib/json.hpp"
#include "lib/wire.hpp"

namespace epilot {

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
      out.append(static_cast<std::size_t>(style.indent * level), ' ');
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

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
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

struct BodyVariant {
  std::string code;
  std::string message;
  std::string body;
};

// Bodies the sender may have signed instead of the one captured, most
// telling first: a newline or line-end change is a smaller edit than a
// re-encoding, so it is tried first.
std::vector<BodyVariant> body_variants(const std::string& body) {
  std::vector<BodyVariant> out;
  const auto add = [&](const char* code, const std::string& message, std::string variant) {
    if (variant != body) {
      out.push_back({code, message, std::move(variant)});
    }
  };
  add("trailing_newline", "the signature matches this body with a newline added at the end (an editor or "
                          "echo added or the receiver dropped one)", body + "\n");
  add("trailing_newline", "the signature matches this body with CRLF added at the end", body + "\r\n");
  if (!body.empty() && body.back() == '\n') {
    auto trimmed = body;
    trimmed.pop_back();
    if (!trimmed.empty() && trimmed.back() == '\r') {
      trimmed.pop_back();
    }
    add("trailing_newline", "the signature matches this body without its final newline (something added "
                            "one after signing)", std::move(trimmed));
  }
  if (body.find("\r\n") != std::string::npos) {
    add("line_endings_changed", "the signature matches this body with CRLF line ends turned into LF",
        replace_all(body, "\r\n", "\n"));
  } else if (body.find('\n') != std::string::npos) {
    add("line_endings_changed", "the signature matches this body with LF line ends turned into CRLF",
        replace_all(body, "\n", "\r\n"));
  }
  // JSON text never holds a NUL (nlohmann would stop reading there), and
  // too deep a body is not re-encoded at all (see explain_mismatch).
  if (body.find('\0') != std::string::npos) {
    return out;
  }
  const auto doc = parse_json_or_discarded<Json>(body);
  if (!doc.is_discarded()) {
    for (const auto& style : k_json_styles) {
      std::string text;
      serialise(doc, style, 0, text);
      if (text != body) {
        out.push_back({"body_reserialized",
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
        {bare, "the signature was made with the secret's text as the HMAC key instead of its "
               "base64-decoded bytes"}};
    if (prefixed) {
      variants.push_back({text, "the signature was made with the whole secret, 'whsec_' included, as "
                                "the HMAC key instead of the base64-decoded bytes after the prefix"});
    }
    for (const auto& [key_text, message] : variants) {
      VerifyKeys alt;
      alt.secrets.push_back({s.name, Secret{Bytes(key_text.begin(), key_text.end()), key_text}});
      if (any_match(result, alt, body)) {
        out.push_back({"secret_format", message + " (" + s.name + ")"});
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
      detail += (detail.empty() ? "" : "; ") + std::string("'") + wire::printable(written, 16) + "' " +
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
    trailing.push_back({"skipped_entries", plural(skipped, "signature entry") +
                                               " could not be used (malformed or unknown version)"});
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

// Why no signature matched. Pushes at least one reason.
void explain_mismatch(const Capture& request, const VerifyKeys& keys, const VerifyKeys& other_keys,
                      const Verification& result, std::vector<Reason>& out) {
  const auto first = out.size();
  std::vector<Reason> trailing;
  if (!check_json_nesting(request.body)) {
    trailing.push_back({"diagnosis_limited", "the body nests deeper than " + std::to_string(k_max_json_depth) +
                                                 " levels, so re-encodings of it were not tried"});
  }
  for (const auto& variant : body_variants(request.body)) {
    if (any_match(result, keys, variant.body)) {
      out.push_back({variant.code, variant.message});
      break;
    }
  }
  if (const auto match = find_match(result.entries, other_keys, result.id, result.timestamp_text,
                                    request.body)) {
    out.push_back({"wrong_key", "the signature verifies under " + match->key_name +
                                    ", which was not among the keys given: is that the key you meant?"});
  }
  explain_secret_format(result, keys, request.body, out);
  explain_entries(result, keys, out, trailing);
  if (out.size() == first) {
    out.push_back({"signature_mismatch",
                   "no entry of webhook-signature verifies under " + key_names(keys) +
                       ", and no common mistake explains it: the request was signed with another key, or "
                       "its id, timestamp or body changed after signing"});
  }
  out.insert(out.end(), trailing.begin(), trailing.end());
}

std::string body_parsed_message(const Capture& request, const Verification& result) {
  const auto* kind = request.body.substr(0, 1) == "[" ? "an array" : "an object";
  return std::string("the body was parsed before it was logged (the capture holds it as ") + kind +
         ", not as text); signatures cover the raw bytes; log the raw body" +
         (result.match ? "; its compact re-serialisation (JSON.stringify) does verify under " +
                             result.match->key_name + ", so the sender most likely sent exactly that"
                       : "; its compact re-serialisation (JSON.stringify) does not verify");
}

}  // namespace

std::vector<Reason> explain(const Capture& request, const VerifyKeys& keys,
                            const VerifyKeys& other_keys, const VerifyPolicy& policy,
                            const Verification& result) {
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
    case Verdict::body_parsed:
      out.push_back({"body_parsed", body_parsed_message(request, result)});
      if (!result.match) {
        explain_mismatch(request, keys, other_keys, result, out);
      }
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
        explain_mismatch(request, keys, other_keys, result, out);
      }
      return out;
    }
    case Verdict::signature_mismatch:
      explain_mismatch(request, keys, other_keys, result, out);
      return out;
  }
  return out;
}

}  // namespace epilot
