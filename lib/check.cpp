#include "lib/check.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include <nlohmann/json.hpp>

#include "lib/base64.hpp"
#include "lib/constants.hpp"
#include "lib/json.hpp"
#include "lib/payload.hpp"
#include "lib/signature.hpp"

namespace epilot {

namespace {

using W = Wanted;
using L = CheckLevel;

// The battery, in run order. Ids and levels are the public contract.
constexpr std::array<CaseInfo, 25> k_battery{{
    {CaseId::genuine, "genuine", L::must, W::success, "a genuine request, signed now: accepted",
     "accept a request signed now with the key the endpoint trusts"},
    {CaseId::forged_key, "forged-key", L::must, W::refusal, "signed by a throwaway key: refused",
     "verify webhook-signature with the key you trust, and answer 401 when no entry verifies"},
    {CaseId::tampered_body, "tampered-body", L::must, W::refusal, "one body byte changed after signing: refused",
     "verify the raw body bytes as received, before doing anything with them"},
    {CaseId::tampered_id, "tampered-id", L::must, W::refusal, "webhook-id changed after signing: refused",
     "sign over <webhook-id>.<webhook-timestamp>.<body>, the id and timestamp as received"},
    {CaseId::tampered_timestamp, "tampered-timestamp", L::must, W::refusal,
     "webhook-timestamp moved by one second after signing: refused",
     "sign over <webhook-id>.<webhook-timestamp>.<body>, the id and timestamp as received"},
    {CaseId::unsigned_request, "unsigned", L::must, W::refusal, "no webhook-signature header: refused",
     "refuse a request without webhook-signature (401)"},
    {CaseId::empty_signature, "empty-signature", L::must, W::refusal, "webhook-signature present but empty: refused",
     "refuse a request whose webhook-signature holds no entry (401)"},
    {CaseId::stale, "stale", L::must, W::refusal, "signed tolerance + 60 s ago: refused",
     "refuse a webhook-timestamp further than the tolerance from now, in the past as in the future"},
    {CaseId::future, "future", L::must, W::refusal, "signed tolerance + 60 s ahead: refused",
     "refuse a webhook-timestamp further than the tolerance from now, in the past as in the future"},
    {CaseId::wrong_scheme, "wrong-scheme", L::must, W::refusal,
     "only an entry of the other scheme (v1 with a random secret, or v1a by a throwaway key): refused",
     "count only entries of the scheme you hold a key for, each checked with that key"},
    {CaseId::version_swap, "version-swap", L::must, W::refusal,
     "the genuine signature under the other version's label (v1a bytes as v1, or the reverse): refused",
     "check each entry with the algorithm its version names: v1a is Ed25519, v1 is HMAC-SHA256"},
    {CaseId::genuine_last_of_many, "genuine-last-of-many", L::should, W::success,
     "two invalid entries, the valid one last: accepted",
     "try every space-separated entry of webhook-signature, not only the first"},
    {CaseId::genuine_unknown_version, "genuine-unknown-version", L::should, W::success,
     "a v2 entry before the valid one: accepted", "skip entries of versions you do not know instead of failing"},
    {CaseId::genuine_header_case, "genuine-header-case", L::should, W::success,
     "header names in mixed case (Webhook-Id, WEBHOOK-TIMESTAMP): accepted", "read header names case-insensitively"},
    {CaseId::genuine_near_edge, "genuine-near-edge", L::should, W::success,
     "signed tolerance - 30 s ago: accepted", "allow a webhook-timestamp up to the tolerance away from now, inclusive"},
    {CaseId::genuine_v1a_and_v1, "genuine-v1a-and-v1", L::should, W::success,
     "a v1a and a v1 entry (needs a private key and a secret): accepted",
     "accept a request that carries entries of both schemes, verifying the one you hold a key for"},
    {CaseId::genuine_noncanonical_json, "genuine-noncanonical-json", L::should, W::success,
     "a body that parse-and-reserialise changes (pretty, \\u00fc, 1.50, \\/): accepted",
     "verify the raw body bytes, never JSON.stringify(req.body) or any other re-encoding"},
    {CaseId::genuine_non_ascii, "genuine-non-ascii", L::should, W::success,
     "non-ASCII UTF-8 in the body: accepted", "verify the raw bytes; do not decode and re-encode the body's text"},
    {CaseId::replayed, "replayed", L::should, W::not_repeated,
     "a genuine request sent twice, byte for byte: the second refused or skipped",
     "remember the webhook-ids processed (for at least the tolerance) and answer a repeat with 409 or "
     "{\"skip_reason\": ...}"},
    {CaseId::malformed_signature, "malformed-signature", L::should, W::client_error,
     "webhook-signature that is not version,base64: 4xx, not a 5xx, a hang or a reset",
     "treat a signature you cannot parse as no signature: 401, never a crash"},
    {CaseId::missing_id, "missing-id", L::should, W::client_error, "no webhook-id header: 4xx",
     "answer a request without webhook-id with 400 or 401, never a crash"},
    {CaseId::missing_timestamp, "missing-timestamp", L::should, W::client_error, "no webhook-timestamp header: 4xx",
     "answer a request without webhook-timestamp with 400 or 401, never a crash"},
    {CaseId::timestamp_garbage, "timestamp-garbage", L::should, W::client_error,
     "webhook-timestamp not digits, and in milliseconds (each signed): 4xx",
     "accept only a timestamp of digits, in seconds; answer anything else with 400 or 401"},
    {CaseId::wrong_method, "wrong-method", L::should, W::client_error, "a signed GET: 4xx",
     "answer methods other than POST with 405"},
    {CaseId::oversized, "oversized", L::should, W::client_error_or_close,
     "a signed 12 MB body: 413 (or a closed connection), not a hang or a 5xx",
     "limit the body size and answer 413 beyond it (epilot's requests are small)"},
}};

static_assert(
    [] {
      for (std::size_t i = 0; i < k_battery.size(); ++i) {
        if (static_cast<std::size_t>(k_battery[i].id) != i) {
          return false;
        }
      }
      return true;
    }(),
    "k_battery lists the cases in CaseId order");

// A throwaway key's or secret's bytes, from the run's randomness.
PrivateKey throwaway_key(const RandomSource& random) { return generate_private_key(random); }

std::string random_base64(const RandomSource& random, std::size_t size) {
  Bytes bytes(size);
  random(bytes.data(), bytes.size());
  return base64_encode(bytes);
}

// The pieces of a signed request that the cases rearrange.
struct Signing {
  std::string id;
  std::string timestamp;
  std::string v1a;  // "v1a,<base64>", empty without a private key
  std::string v1;   // "v1,<base64>", empty without a secret
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
Capture with_signing(const Capture& base, std::optional<std::string> id, std::optional<std::string> timestamp,
                     std::optional<std::string> signature, std::string body) {
  Capture out = base;
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

Capture signed_request(const Capture& base, const Signing& s, std::string signature, std::string body) {
  return with_signing(base, s.id, s.timestamp, std::move(signature), std::move(body));
}

// The entry a key of the other scheme (or a throwaway one of the same) makes.
std::string foreign_entry(bool ed25519, const RandomSource& random, const Signing& s, std::string_view body) {
  if (ed25519) {
    return sign_v1a(throwaway_key(random), s.id, s.timestamp, body);
  }
  return sign_v1(generate_secret(random), s.id, s.timestamp, body);
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

std::string_view describe(CheckLevel level) { return level == CheckLevel::must ? "must" : "should"; }

std::span<const CaseInfo> check_battery() { return k_battery; }

const CaseInfo& case_info(CaseId id) { return k_battery[static_cast<std::size_t>(id)]; }

const CaseInfo* find_case(std::string_view name) {
  for (const auto& info : k_battery) {
    if (info.name == name) {
      return &info;
    }
  }
  return nullptr;
}

std::string_view describe(Wanted wanted) {
  switch (wanted) {
    case Wanted::success:
      return "2xx";
    case Wanted::refusal:
      return "a refusal (4xx)";
    case Wanted::client_error:
      return "4xx";
    case Wanted::client_error_or_close:
      return "4xx or a closed connection";
    case Wanted::not_repeated:
      return "4xx or skipped";
  }
  return "4xx";
}

std::string_view describe(CaseVerdict verdict) {
  switch (verdict) {
    case CaseVerdict::pass:
      return "pass";
    case CaseVerdict::fail:
      return "fail";
    case CaseVerdict::inconclusive:
      return "inconclusive";
    case CaseVerdict::skipped:
      return "skipped";
  }
  return "fail";
}

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
  const auto doc = parse_json_or_discarded(body);
  if (!doc.is_object()) {
    return std::nullopt;
  }
  const auto open = body.find('{');
  const auto next = body.find_first_not_of(" \t\r\n", open + 1);
  const bool empty = next != std::string_view::npos && body[next] == '}';
  std::string out(body.substr(0, open + 1));
  out += json_quote(name) + ":" + std::string(value_json) + (empty ? "" : ",");
  out += body.substr(open + 1);
  return out;
}

std::optional<std::string> noncanonical_json(std::string_view body) {
  const auto doc = parse_json_or_discarded(body);
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

std::string unavailable_reason(CaseId id, const CheckKeys& keys, std::string_view genuine_body) {
  switch (id) {
    case CaseId::genuine_v1a_and_v1:
      return keys.private_key && keys.secret ? "" : "it needs a private key and a secret";
    case CaseId::genuine_noncanonical_json:
    case CaseId::genuine_non_ascii:
      if (!check_json_nesting(genuine_body).ok()) {
        return "the genuine body nests deeper than " + std::to_string(k_max_json_depth) + " levels";
      }
      return parse_json_or_discarded(genuine_body).is_object() ? "" : "the genuine body is not a JSON object";
    default:
      return "";
  }
}

std::size_t request_count(CaseId id) {
  switch (id) {
    case CaseId::replayed:
    case CaseId::malformed_signature:
    case CaseId::timestamp_garbage:
      return 2;
    default:
      return 1;
  }
}

namespace {

// What every case's builder works from.
class Builder {
 public:
  Builder(const CaseContext& context, const CheckKeys& keys) : m_context(context), m_keys(keys) {}

  const Capture& base() const { return m_context.base; }
  const std::string& body() const { return m_context.base.body; }
  std::int64_t now() const { return m_context.now; }
  std::int64_t tolerance() const { return m_context.tolerance; }
  const RandomSource& random() const { return m_context.random; }
  const CheckKeys& keys() const { return m_keys; }

  // Signed as of `at` (default: now), a fresh webhook-id.
  Signing sign(std::string_view body) const { return sign_at(body, std::to_string(now())); }
  Signing sign_at(std::string_view body, std::string timestamp) const {
    return sign_parts(m_keys, generate_message_id(random()), std::move(timestamp), body);
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
  out.requests.push_back(signed_request(b.base(), s, "v2," + random_base64(b.random(), 48) + " " + s.primary(), b.body()));
  out.sent = "a v2 entry, then the genuine one";
}

void genuine_header_case(const Builder& b, CaseRequests& out) {
  const auto s = b.sign(b.body());
  Capture request = b.base();
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
  Capture get = b.base();
  get.method = "GET";
  std::erase_if(get.headers, [](const Header& h) { return iequals_ascii(h.name, k_header_content_type); });
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
constexpr std::array<CaseBuilder, k_battery.size()> k_builders{
    genuine, forged_key, tampered_body, tampered_id, tampered_timestamp, unsigned_request, empty_signature,
    stale, future, wrong_scheme, version_swap, genuine_last_of_many, genuine_unknown_version,
    genuine_header_case, genuine_near_edge, genuine_v1a_and_v1, genuine_noncanonical_json, genuine_non_ascii,
    replayed, malformed_signature, missing_id, missing_timestamp, timestamp_garbage, wrong_method, oversized};

}  // namespace

std::string with_fresh_execution_id(std::string_view body, const RandomSource& random) {
  const auto doc = parse_json_or_discarded(body);
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_object() ||
      !doc["data"].contains("execution_id") || !doc["data"]["execution_id"].is_string()) {
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

// --- Judging ---

namespace {

int status_class(const CaseAnswer& a) {
  return a.delivered.delivery == Delivery::answered ? a.delivered.answer.status / 100 : 0;
}

Judgement pass(std::string note = {}) { return {CaseVerdict::pass, std::move(note)}; }
Judgement fail(std::string why) { return {CaseVerdict::fail, std::move(why)}; }
Judgement inconclusive(std::string why) { return {CaseVerdict::inconclusive, std::move(why)}; }

Judgement unreachable_or(const CaseAnswer& a, Judgement otherwise) {
  if (a.delivered.delivery == Delivery::unreachable) {
    return inconclusive("the endpoint could not be reached: " + a.classified.reason);
  }
  return otherwise;
}

Judgement judge_success(const CaseAnswer& a) {
  if (status_class(a) == 2) {
    return pass();
  }
  return unreachable_or(a, fail("expected 2xx, got " + describe_answer(a)));
}

// A request that must not fool the endpoint: any refusal will do, a 4xx is right.
Judgement judge_refusal(const CaseAnswer& a, const std::string& sent) {
  switch (status_class(a)) {
    case 4:
      return pass();
    case 2:
      return fail("accepted " + sent + " (" + describe_answer(a) + ")");
    case 5:
      return pass("refused, but with " + std::to_string(a.delivered.answer.status) +
                  ": 401 is the answer for a request that does not verify");
    case 0:
      if (a.delivered.delivery == Delivery::broken) {
        return pass("refused by closing the connection: 401 is the answer for a request that does not verify");
      }
      return unreachable_or(a, inconclusive("neither accepted nor refused: " + describe_answer(a)));
    default:
      return inconclusive("answered " + describe_answer(a) + ": neither accepted nor refused");
  }
}

Judgement judge_client_error(const CaseAnswer& a, bool close_is_fine, const std::string& sent) {
  if (status_class(a) == 4) {
    return pass();
  }
  if (close_is_fine && a.delivered.delivery == Delivery::broken) {
    return pass("the connection was closed without an answer");
  }
  if (status_class(a) == 2) {
    return fail("accepted " + sent + " (" + describe_answer(a) + ")");
  }
  if (a.delivered.delivery == Delivery::timeout) {
    return fail("no answer in time: the endpoint hangs on " + sent);
  }
  if (a.delivered.delivery == Delivery::broken) {
    return fail(a.classified.reason + ": the endpoint may have crashed on " + sent);
  }
  return unreachable_or(a, fail("expected 4xx, got " + describe_answer(a)));
}

bool duplicate_matches(const DuplicateAnswer& d, const CaseAnswer& a) {
  return expectation_met(d.expectation, a.delivered, a.classified.answer_class) &&
         (d.body_text.empty() || a.delivered.answer.body.find(d.body_text) != std::string::npos);
}

Judgement judge_second_send(std::span<const CaseAnswer> answers, const DuplicateAnswer* duplicate) {
  const auto& first = answers[0];
  if (first.classified.answer_class != AnswerClass::success) {
    return unreachable_or(first, inconclusive("the first send was not a plain success (" + describe_answer(first) +
                                              "), so a repeat can't be told from it"));
  }
  if (answers.size() < 2) {
    return inconclusive("the repeat was not sent");
  }
  const auto& second = answers[1];
  if (duplicate != nullptr && duplicate_matches(*duplicate, second)) {
    if (duplicate_matches(*duplicate, first)) {
      return inconclusive("the duplicate answer described matches the first answer too (" + describe_answer(first) +
                          "), so it can't tell a repeat from a new request");
    }
    return pass("the repeat got the duplicate answer (" + describe_answer(second) + ")");
  }
  if (status_class(second) == 4 || second.classified.answer_class == AnswerClass::skipped) {
    return pass();
  }
  if (second.classified.answer_class == AnswerClass::success) {
    return fail("accepted the same request twice (" + describe_answer(first) + ", then " + describe_answer(second) + ")");
  }
  return unreachable_or(second, fail("expected 4xx or skipped for the repeat, got " + describe_answer(second)));
}

Judgement judge_repeat(std::span<const CaseAnswer> answers, const DuplicateAnswer* duplicate) {
  auto verdict = judge_second_send(answers, duplicate);
  verdict.deciding = answers.size() > 1 && answers[0].classified.answer_class == AnswerClass::success ? 1 : 0;
  return verdict;
}


}  // namespace

std::string describe_answer(const CaseAnswer& a) {
  std::string text(describe(a.classified.answer_class));
  if (a.delivered.delivery == Delivery::answered) {
    text = std::to_string(a.delivered.answer.status) + " " + text;
  }
  return a.classified.reason.empty() ? text : text + ": " + a.classified.reason;
}

Result<DuplicateAnswer> parse_duplicate_answer(std::string_view text) {
  DuplicateAnswer out;
  const auto colon = text.find(':');
  if (colon != std::string_view::npos) {
    out.body_text = std::string(text.substr(colon + 1));
    if (out.body_text.empty()) {
      return make_error(ErrorCode::usage, "'" + std::string(text) + "' has nothing after its ':'",
                        {"SPEC:TEXT: the answer's status and a text its body holds, e.g. 200:duplicate"});
    }
  }
  auto expectation = parse_expectation(text.substr(0, colon));
  if (!expectation.ok()) {
    return expectation.error();
  }
  out.expectation = std::move(expectation).value();
  out.expectation.text = std::string(text);
  return out;
}

Judgement judge_case(const CaseInfo& info, std::span<const CaseAnswer> answers, std::span<const std::string> what,
                     const DuplicateAnswer* duplicate) {
  if (answers.empty()) {
    return inconclusive("nothing was sent");
  }
  if (info.wanted == Wanted::not_repeated) {
    return judge_repeat(answers, duplicate);
  }
  // Several requests: each must do what the case wants; the first that does
  // not decides, and its answer is the one reported.
  Judgement verdict = pass();
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const std::string& sent = i < what.size() ? what[i] : (what.empty() ? std::string() : what.back());
    Judgement one;
    switch (info.wanted) {
      case Wanted::success:
        one = judge_success(answers[i]);
        break;
      case Wanted::refusal:
        one = judge_refusal(answers[i], sent);
        break;
      case Wanted::client_error:
      case Wanted::client_error_or_close:
        one = judge_client_error(answers[i], info.wanted == Wanted::client_error_or_close, sent);
        break;
      case Wanted::not_repeated:
        break;
    }
    one.deciding = i;
    if (one.verdict != CaseVerdict::pass) {
      return one;
    }
    if (verdict.why.empty()) {
      verdict.why = std::move(one.why);
    }
    verdict.deciding = i;
  }
  return verdict;
}

// --- Running ---

namespace {

class LoadSender : public CaseSender {
 public:
  LoadSender(LoadPlan plan, std::chrono::milliseconds wait) : m_plan(std::move(plan)), m_wait(wait) {}

  Status send(std::uint64_t count, const std::function<void(std::uint64_t, OutgoingRequest&)>& build,
              const std::function<void(Delivered&)>& done, const std::atomic<bool>& stop) override {
    LoadPlan plan = m_plan;
    plan.total = count;
    plan.connections = 1;
    plan.threads = 1;
    plan.rate = 0;
    plan.duration = std::chrono::milliseconds(0);
    // Retries are for an endpoint still starting up; once it has answered,
    // a connection it closes on a case is that case's answer.
    if (m_first && m_wait.count() > 0) {
      // A try every quarter second until the wait is over, each signed
      // afresh: the wait may be longer than the endpoint's tolerance.
      plan.backoff = std::min(plan.backoff, k_wait_step);
      plan.max_backoff = k_wait_step;
      plan.retries = std::max(plan.retries, static_cast<unsigned>(m_wait / k_wait_step) + 1);
      plan.rebuild_on_retry = true;
    }
    if (!m_first) {
      plan.retries = 0;
    }
    m_first = false;
    auto stats = run_load(
        plan, [&](unsigned, std::uint64_t job, OutgoingRequest& out) { build(job, out); },
        [&](unsigned, Delivered& delivered) { done(delivered); }, nullptr, &stop);
    if (!stats.ok()) {
      return stats.error();
    }
    return ok_status();
  }

 private:
  static constexpr std::chrono::milliseconds k_wait_step{250};
  LoadPlan m_plan;
  std::chrono::milliseconds m_wait;
  bool m_first = true;
};

SentRequest summary_of(const Capture& request, std::string what) {
  return SentRequest{request.method, request.headers, request.body.size(), std::move(what)};
}

// Sends the cases at `indices` (of the battery) in order, building each as
// its first request goes, and judges each as its last answer comes in.
class BatterySender {
 public:
  // `judged(index, unavailable)`: case `index` has all its answers; when
  // `unavailable` is set, it could not be made after all.
  using Judged = std::function<void(std::size_t, const std::string&)>;
  BatterySender(const BatteryRun& run, std::vector<CaseResult>& results, const Judged& judged)
      : m_run(run), m_results(results), m_judged(judged) {}

  Status send(CaseSender& sender, const std::vector<std::size_t>& indices) {
    m_jobs.clear();
    for (const auto index : indices) {
      for (std::size_t r = 0; r < request_count(m_results[index].info->id); ++r) {
        m_jobs.emplace_back(index, r);
      }
    }
    m_built.assign(m_results.size(), {});
    m_unavailable.assign(m_results.size(), {});
    return sender.send(
        m_jobs.size(), [this](std::uint64_t job, OutgoingRequest& out) { build(job, out); },
        [this](Delivered& delivered) { deliver(delivered); }, m_stop);
  }

  // Set when the endpoint could no longer be reached: the case it happened on.
  const CaseInfo* gone_at() const { return m_gone_at; }

 private:
  void build(std::uint64_t job, OutgoingRequest& out) {
    const auto [index, r] = m_jobs[job];
    auto& built = m_built[index];
    auto& result = m_results[index];
    // Built afresh as its first request goes (and again if that is retried:
    // the signature carries the time).
    if (r == 0 || built.requests.size() <= r) {
      built = build_case(result.info->id, m_run.context(), m_run.keys);
      m_unavailable[index] = built.skipped;
      if (built.requests.empty()) {
        // Availability was decided before the run; should this fill of the
        // body disagree, a job still needs bytes: send genuine's, judge nothing.
        built = build_case(CaseId::genuine, m_run.context(), m_run.keys);
        built.requests.resize(request_count(result.info->id), built.requests.front());
      }
      result.sent = built.sent;
      result.requests.clear();
      for (std::size_t i = 0; i < built.requests.size(); ++i) {
        result.requests.push_back(summary_of(built.requests[i], i < built.each.size() ? built.each[i] : built.sent));
      }
    }
    const auto& request = built.requests[r];
    out.storage = write_raw_http(request);
    const auto head_end = out.storage.find("\r\n\r\n") + 4;
    out.head = out.storage.substr(0, head_end);
    out.body = std::string_view(out.storage).substr(head_end);
    const auto* id = request.find_header(k_header_id);
    out.label = id != nullptr ? *id : std::string();
  }

  void deliver(Delivered& delivered) {
    const auto [index, r] = m_jobs[delivered.job];
    auto& result = m_results[index];
    if (delivered.delivery == Delivery::unreachable && m_gone_at == nullptr) {
      m_gone_at = result.info;  // the endpoint is gone: sending the rest would only wait on retries
      m_stop.store(true);
    }
    result.latency += delivered.latency;
    CaseAnswer answer;
    answer.classified = classify(delivered);
    answer.delivered = std::move(delivered);
    result.answers.push_back(std::move(answer));
    if (r + 1 == request_count(result.info->id)) {
      m_built[index].requests.clear();  // a 12 MB body need not outlive its case
      m_judged(index, m_unavailable[index]);
    }
  }

  const BatteryRun& m_run;
  std::vector<CaseResult>& m_results;
  const Judged& m_judged;
  std::vector<std::pair<std::size_t, std::size_t>> m_jobs;  // job -> (case, its request)
  std::vector<CaseRequests> m_built;
  std::vector<std::string> m_unavailable;
  std::atomic<bool> m_stop{false};
  const CaseInfo* m_gone_at = nullptr;
};

}  // namespace

std::unique_ptr<CaseSender> make_load_sender(LoadPlan plan, std::chrono::milliseconds wait) {
  return std::make_unique<LoadSender>(std::move(plan), wait);
}

Result<std::vector<CaseResult>> run_battery(const BatteryRun& run, CaseSender& sender) {
  const auto battery = check_battery();
  std::vector<CaseResult> results(battery.size());
  for (std::size_t i = 0; i < battery.size(); ++i) {
    results[i].info = &battery[i];
  }
  // Cases are reported in battery order, each as soon as it and every case
  // before it are judged.
  std::vector<bool> done(battery.size(), false);
  std::size_t next_report = 0;
  const auto report = [&](std::size_t index) {
    done[index] = true;
    while (next_report < done.size() && done[next_report]) {
      if (run.on_case) {
        run.on_case(results[next_report]);
      }
      ++next_report;
    }
  };
  const BatterySender::Judged judged = [&](std::size_t index, const std::string& unavailable) {
    auto& r = results[index];
    std::vector<std::string> what;
    for (const auto& request : r.requests) {
      what.push_back(request.what);
    }
    r.judgement = unavailable.empty() ? judge_case(*r.info, r.answers, what, run.duplicate)
                                      : Judgement{CaseVerdict::skipped, unavailable};
    report(index);
  };
  const auto settle = [&](std::size_t index, CaseVerdict verdict, std::string why) {
    results[index].judgement = {verdict, std::move(why)};
    report(index);
  };

  BatterySender batch(run, results, judged);
  EPILOT_TRY(batch.send(sender, {0}));
  const bool gate_open = results[0].judgement.verdict == CaseVerdict::pass;

  std::vector<std::size_t> to_send;
  const std::string genuine_body = gate_open ? run.context().base.body : std::string();
  for (std::size_t i = 1; i < battery.size(); ++i) {
    const std::string left_out = i < run.left_out.size() ? run.left_out[i] : std::string();
    if (!left_out.empty()) {
      settle(i, CaseVerdict::skipped, left_out);
    } else if (!gate_open) {
      settle(i, CaseVerdict::inconclusive, "the genuine request was not accepted, so this case would prove nothing");
    } else if (auto why = unavailable_reason(battery[i].id, run.keys, genuine_body); !why.empty()) {
      settle(i, CaseVerdict::skipped, std::move(why));
    } else {
      to_send.push_back(i);
    }
  }
  if (!to_send.empty()) {
    EPILOT_TRY(batch.send(sender, to_send));
  }
  // A case whose requests were not all answered (the endpoint went away)
  // is judged on what came back, or not at all.
  for (const auto i : to_send) {
    if (done[i]) {
      continue;
    }
    if (results[i].answers.empty() && batch.gone_at() != nullptr) {
      settle(i, CaseVerdict::inconclusive,
             "not run: the endpoint could not be reached after " + std::string(batch.gone_at()->name));
    } else {
      judged(i, {});
    }
  }
  return results;
}

}  // namespace epilot
