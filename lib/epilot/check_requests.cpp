#include "lib/epilot/check_requests.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include <nlohmann/json.hpp>

#include "lib/epilot/templates.hpp"
#include "lib/util/base64.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/json.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot {

namespace {

// A throwaway key's or secret's bytes, from the run's randomness.
webhook::PrivateKey throwaway_key(const util::RandomSource& random) { return webhook::generate_private_key(random); }

std::string random_base64(const util::RandomSource& random, std::size_t size) {
  util::Bytes bytes(size);
  random(bytes.data(), bytes.size());
  return util::base64_encode(bytes);
}

// The pieces of a signed request that the cases rearrange.
struct Signing {
  std::string id;
  std::string timestamp;
  std::string v1a;      // "v1a,<base64>", empty without a private key
  std::string v1;       // "v1,<base64>", empty without a secret
  bool ed25519 = true;  // the scheme under test
  const std::string& primary() const { return ed25519 ? v1a : v1; }
};

Signing sign_parts(const CheckKeys& keys, std::string id, std::string timestamp, std::string_view body) {
  Signing s;
  s.id = std::move(id);
  s.timestamp = std::move(timestamp);
  s.ed25519 = keys.private_key.has_value();
  if (keys.private_key) {
    s.v1a = sign_v1a(*keys.private_key, s.id, s.timestamp, body);
  }
  if (keys.secret) {
    s.v1 = sign_v1(*keys.secret, s.id, s.timestamp, body);
  }
  return s;
}

// `base` with the three signing headers set (an empty `signature` is sent
// empty; nullopt leaves a header out), after the others.
webhook::Capture with_signing(const webhook::Capture& base, std::optional<std::string> id,
                              std::optional<std::string> timestamp, std::optional<std::string> signature,
                              std::string body) {
  webhook::Capture out = base;
  out.body = std::move(body);
  if (id) {
    out.headers.push_back({std::string(k_header_id), std::move(*id)});
  }
  if (timestamp) {
    out.headers.push_back({std::string(k_header_timestamp), std::move(*timestamp)});
  }
  if (signature) {
    out.headers.push_back({std::string(k_header_signature), std::move(*signature)});
  }
  return out;
}

webhook::Capture signed_request(const webhook::Capture& base, const Signing& s, std::string signature,
                                std::string body) {
  return with_signing(base, s.id, s.timestamp, std::move(signature), std::move(body));
}

// The entry a key of the other scheme (or a throwaway one of the same) makes.
std::string foreign_entry(bool ed25519, const util::RandomSource& random, const Signing& s, std::string_view body) {
  if (ed25519) {
    return sign_v1a(throwaway_key(random), s.id, s.timestamp, body);
  }
  return sign_v1(webhook::generate_secret(random), s.id, s.timestamp, body);
}

// The signature bytes of `entry` ("version,base64") under another label.
std::string relabelled(std::string_view entry, std::string_view version) {
  const auto comma = entry.find(',');
  return std::string(version) + std::string(entry.substr(comma));
}

std::string id_changed(std::string id) {
  if (!id.empty()) {
    char& last = id.back();
    last = last == '0' ? '1' : '0';
  }
  return id;
}

char rotated(char c) {
  if (c >= 'a' && c <= 'z') {
    return c == 'z' ? 'a' : static_cast<char>(c + 1);
  }
  if (c >= 'A' && c <= 'Z') {
    return c == 'Z' ? 'A' : static_cast<char>(c + 1);
  }
  return c == '9' ? '0' : static_cast<char>(c + 1);
}

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// The first letter or digit inside a JSON string that follows a ':', or npos.
std::size_t first_value_character(std::string_view body) {
  bool in_string = false;
  bool is_value = false;
  char before = 0;  // the last byte outside strings and whitespace
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        before = '"';
      } else if (is_value && is_alnum(c)) {
        return i;
      }
    } else if (c == '"') {
      in_string = true;
      is_value = before == ':';
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      before = c;
    }
  }
  return std::string_view::npos;
}

std::string mixed_case(std::string_view name) {
  // Webhook-Id, WEBHOOK-TIMESTAMP, Webhook-Signature: two spellings, so that
  // neither all-lower nor title case alone gets through.
  if (name == k_header_timestamp) {
    std::string upper(name);
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    return upper;
  }
  std::string out(name);
  bool start = true;
  for (char& c : out) {
    if (start) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    start = c == '-';
  }
  return out;
}

std::string padded(std::string_view body, std::size_t size) {
  const std::size_t pad = size > body.size() + 64 ? size - body.size() - 64 : size;
  if (auto object = with_leading_member(body, "epilot_action_padding", "\"" + std::string(pad, 'x') + "\"")) {
    return std::move(*object);
  }
  // Not an object: whitespace after any JSON text keeps it the same JSON.
  return std::string(body) + std::string(size > body.size() ? size - body.size() : 1, ' ');
}

std::string seconds_text(std::int64_t seconds) { return std::to_string(seconds) + " s"; }

}  // namespace

std::int64_t near_edge_age(std::int64_t tolerance) { return tolerance >= 60 ? tolerance - 30 : tolerance / 2; }

std::string tamper_one_byte(std::string_view body) {
  std::string out(body);
  if (out.empty()) {
    return " ";
  }
  auto at = first_value_character(body);
  if (at == std::string_view::npos) {
    const auto it = std::find_if(body.begin(), body.end(), is_alnum);
    at = it == body.end() ? std::string_view::npos : static_cast<std::size_t>(it - body.begin());
  }
  if (at == std::string_view::npos) {
    out.back() = static_cast<char>(out.back() ^ 0x01);
  } else {
    out[at] = rotated(out[at]);
  }
  return out;
}

std::optional<std::string> with_leading_member(std::string_view body, std::string_view name,
                                               std::string_view value_json) {
  const auto doc = util::parse_json_or_discarded(body);
  if (!doc.is_object()) {
    return std::nullopt;
  }
  const auto open = body.find('{');
  const auto next = body.find_first_not_of(" \t\r\n", open + 1);
  const bool empty = next != std::string_view::npos && body[next] == '}';
  std::string out(body.substr(0, open + 1));
  out += util::json_quote(name) + ":" + std::string(value_json) + (empty ? "" : ",");
  out += body.substr(open + 1);
  return out;
}

std::optional<std::string> noncanonical_json(std::string_view body) {
  const auto doc = util::parse_json_or_discarded(body);
  if (!doc.is_object()) {
    return std::nullopt;
  }
  std::string pretty = doc.dump(4, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
  std::string out;
  out.reserve(pretty.size() + 128);
  for (const char c : pretty) {
    if (c == '/') {
      out += "\\/";  // '/' appears only inside strings in a JSON text
    } else {
      out.push_back(c);
    }
  }
  // Drop the closing "\n}" (or the "}" of "{}") and add the member, written
  // the way no serialiser writes it back.
  const bool empty = doc.empty();
  out.erase(out.size() - (empty ? 1 : 2));
  out += std::string(empty ? "\n" : ",\n") + "    \"" + std::string(k_check_member) +
         "\": {\"text\": \"Gr\\u00fc\\u00dfe aus K\\u00f6ln\", \"amount\": 1.50, \"path\": \"\\/hooks\\/epilot\"}\n}";
  return out;
}

namespace {

// What every case's builder works from.
class Builder {
 public:
  Builder(const CaseContext& context, const CheckKeys& keys) : m_context(context), m_keys(keys) {}

  const webhook::Capture& base() const { return m_context.base; }
  const std::string& body() const { return m_context.base.body; }
  std::int64_t now() const { return m_context.now; }
  std::int64_t tolerance() const { return m_context.tolerance; }
  const util::RandomSource& random() const { return m_context.random; }
  const CheckKeys& keys() const { return m_keys; }

  // Signed as of `at` (default: now), a fresh webhook-id.
  Signing sign(std::string_view body) const { return sign_at(body, std::to_string(now())); }
  Signing sign_at(std::string_view body, std::string timestamp) const {
    return sign_parts(m_keys, webhook::generate_message_id(random()), std::move(timestamp), body);
  }
  std::string tolerance_note() const { return " (tolerance " + seconds_text(tolerance()) + ")"; }

 private:
  const CaseContext& m_context;
  const CheckKeys& m_keys;
};

using CaseBuilder = void (*)(const Builder& b, CaseRequests& out);

void genuine(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(signed_request(b.base(), s, s.primary(), b.body()));
  out.sent = "a genuine request, signed now";
}

void forged_key(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(signed_request(b.base(), s, foreign_entry(s.ed25519, b.random(), s, b.body()), b.body()));
  out.sent = s.ed25519 ? "a request signed by a throwaway key" : "a request signed with a random secret";
}

void tampered_body(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(signed_request(b.base(), s, s.primary(), tamper_one_byte(b.body())));
  out.sent = "a request with one body byte changed after signing";
}

void tampered_id(const Builder& b, CaseRequests& out) {
  auto s = b.sign(b.body());
  const auto signature = s.primary();
  s.id = id_changed(s.id);
  out.requests.push_back(signed_request(b.base(), s, signature, b.body()));
  out.sent = "a request whose webhook-id was changed after signing";
}

void tampered_timestamp(const Builder& b, CaseRequests& out) {
  auto s = b.sign(b.body());
  const auto signature = s.primary();
  s.timestamp = std::to_string(b.now() + 1);
  out.requests.push_back(signed_request(b.base(), s, signature, b.body()));
  out.sent = "a request whose webhook-timestamp was moved by 1 s after signing";
}

void unsigned_request(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(with_signing(b.base(), s.id, s.timestamp, std::nullopt, b.body()));
  out.sent = "a request without webhook-signature";
}

void empty_signature(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(signed_request(b.base(), s, "", b.body()));
  out.sent = "a request with an empty webhook-signature";
}

void stale(const Builder& b, CaseRequests& out) {
  const auto off = b.tolerance() + 60;
  const auto s = b.sign_at(b.body(), std::to_string(b.now() - off));
  out.requests.push_back(signed_request(b.base(), s, s.primary(), b.body()));
  out.sent = "a request signed " + seconds_text(off) + " ago" + b.tolerance_note();
}

void future(const Builder& b, CaseRequests& out) {
  const auto off = b.tolerance() + 60;
  const auto s = b.sign_at(b.body(), std::to_string(b.now() + off));
  out.requests.push_back(signed_request(b.base(), s, s.primary(), b.body()));
  out.sent = "a request signed " + seconds_text(off) + " ahead" + b.tolerance_note();
}

void wrong_scheme(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(signed_request(b.base(), s, foreign_entry(!s.ed25519, b.random(), s, b.body()), b.body()));
  out.sent = s.ed25519 ? "a request with only a v1 entry, made with a random secret"
                       : "a request with only a v1a entry, by a throwaway key";
}

void version_swap(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(signed_request(b.base(), s, relabelled(s.primary(), s.ed25519 ? "v1" : "v1a"), b.body()));
  out.sent = s.ed25519 ? "the genuine v1a signature labelled v1" : "the genuine v1 signature labelled v1a";
}

void genuine_last_of_many(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  const std::string label = s.ed25519 ? "v1a," : "v1,";
  const auto junk = label + random_base64(b.random(), s.ed25519 ? k_ed25519_signature_size : 32);
  const auto entries = junk + " " + foreign_entry(s.ed25519, b.random(), s, b.body()) + " " + s.primary();
  out.requests.push_back(signed_request(b.base(), s, entries, b.body()));
  out.sent = "two invalid entries, then the genuine one";
}

void genuine_unknown_version(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(
      signed_request(b.base(), s, "v2," + random_base64(b.random(), 48) + " " + s.primary(), b.body()));
  out.sent = "a v2 entry, then the genuine one";
}

void genuine_header_case(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  webhook::Capture request = b.base();
  request.headers.push_back({mixed_case(k_header_id), s.id});
  request.headers.push_back({mixed_case(k_header_timestamp), s.timestamp});
  request.headers.push_back({mixed_case(k_header_signature), s.primary()});
  out.requests.push_back(std::move(request));
  out.sent = "a genuine request with header names Webhook-Id, WEBHOOK-TIMESTAMP, Webhook-Signature";
}

void genuine_near_edge(const Builder& b, CaseRequests& out) {
  const auto age = near_edge_age(b.tolerance());
  const auto s = b.sign_at(b.body(), std::to_string(b.now() - age));
  out.requests.push_back(signed_request(b.base(), s, s.primary(), b.body()));
  out.sent = "a genuine request signed " + seconds_text(age) + " ago" + b.tolerance_note();
}

void genuine_v1a_and_v1(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(signed_request(b.base(), s, s.v1a + " " + s.v1, b.body()));
  out.sent = "a genuine request with a v1a and a v1 entry";
}

void genuine_noncanonical_json(const Builder& b, CaseRequests& out) {
  auto text = noncanonical_json(b.body()).value_or(b.body());
  const auto s = b.sign(text);
  out.requests.push_back(signed_request(b.base(), s, s.primary(), std::move(text)));
  out.sent = "a genuine request whose JSON body is pretty-printed, with \\u00fc escapes, 1.50 and \\/";
}

void genuine_non_ascii(const Builder& b, CaseRequests& out) {
  auto text = with_leading_member(b.body(), k_check_member,
                                  "{\"text\":\"Grüße aus Köln – 東京 ✓\",\"emoji\":\"\xF0\x9F\x9A\x80\"}")
                  .value_or(b.body());
  const auto s = b.sign(text);
  out.requests.push_back(signed_request(b.base(), s, s.primary(), std::move(text)));
  out.sent = "a genuine request with non-ASCII UTF-8 in its body";
}

void replayed(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(signed_request(b.base(), s, s.primary(), b.body()));
  out.requests.push_back(out.requests.back());
  out.sent = "a genuine request, sent twice byte for byte";
}

void malformed_signature(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  const auto unparsable = std::string(s.ed25519 ? "v1a" : "v1") + ",%%not*base64%%";
  out.requests.push_back(signed_request(b.base(), s, unparsable, b.body()));
  out.requests.push_back(signed_request(b.base(), b.sign(b.body()), "garbage-without-a-comma", b.body()));
  out.each = {"a request with webhook-signature '" + unparsable + "'",
              "a request with webhook-signature 'garbage-without-a-comma'"};
  out.sent = "webhook-signature '" + unparsable + "', then 'garbage-without-a-comma'";
}

void missing_id(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(with_signing(b.base(), std::nullopt, s.timestamp, s.primary(), b.body()));
  out.sent = "a signed request without webhook-id";
}

void missing_timestamp(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  out.requests.push_back(with_signing(b.base(), s.id, std::nullopt, s.primary(), b.body()));
  out.sent = "a signed request without webhook-timestamp";
}

void timestamp_garbage(const Builder& b, CaseRequests& out) {
  const auto millis = std::to_string(b.now()) + "000";
  for (const auto& text : {std::string("yesterday"), millis}) {
    const auto s = b.sign_at(b.body(), text);
    out.requests.push_back(signed_request(b.base(), s, s.primary(), b.body()));
  }
  out.each = {"a request with webhook-timestamp 'yesterday', signed over it",
              "a request with webhook-timestamp " + millis + " (milliseconds), signed over it"};
  out.sent = "webhook-timestamp 'yesterday', then " + millis + " (milliseconds), each signed";
}

void wrong_method(const Builder& b, CaseRequests& out) {
  webhook::Capture get = b.base();
  get.method = "GET";
  std::erase_if(get.headers, [](const http::Header& h) { return util::iequals_ascii(h.name, k_header_content_type); });
  const auto s = b.sign("");
  out.requests.push_back(signed_request(get, s, s.primary(), ""));
  out.sent = "a GET with a genuine signature over its empty body";
}

void oversized(const Builder& b, CaseRequests& out) {
  auto big = padded(b.body(), k_oversized_body);
  const auto s = b.sign(big);
  out.requests.push_back(signed_request(b.base(), s, s.primary(), std::move(big)));
  out.sent = "a genuine request with a 12 MiB body";
}

// In CaseId order.
constexpr std::array<CaseBuilder, k_case_count> k_builders{genuine,
                                                           forged_key,
                                                           tampered_body,
                                                           tampered_id,
                                                           tampered_timestamp,
                                                           unsigned_request,
                                                           empty_signature,
                                                           stale,
                                                           future,
                                                           wrong_scheme,
                                                           version_swap,
                                                           genuine_last_of_many,
                                                           genuine_unknown_version,
                                                           genuine_header_case,
                                                           genuine_near_edge,
                                                           genuine_v1a_and_v1,
                                                           genuine_noncanonical_json,
                                                           genuine_non_ascii,
                                                           replayed,
                                                           malformed_signature,
                                                           missing_id,
                                                           missing_timestamp,
                                                           timestamp_garbage,
                                                           wrong_method,
                                                           oversized};

}  // namespace

std::string with_fresh_execution_id(std::string_view body, const util::RandomSource& random) {
  const auto doc = util::parse_json_or_discarded(body);
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_object() || !doc["data"].contains("execution_id") ||
      !doc["data"]["execution_id"].is_string()) {
    return std::string(body);
  }
  auto changed = apply_overrides(body, {{"data.execution_id", make_uuid(random)}});
  return changed.ok() ? std::move(changed).value() : std::string(body);
}

CaseRequests build_case(CaseId id, const CaseContext& context, const CheckKeys& keys) {
  CaseRequests out;
  out.skipped = unavailable_reason(id, keys, context.base.body);
  if (out.skipped.empty()) {
    CaseContext own = context;
    own.base.body = with_fresh_execution_id(context.base.body, context.random);
    k_builders[static_cast<std::size_t>(id)](Builder(own, keys), out);
  }
  return out;
}

}  // namespace epilot
