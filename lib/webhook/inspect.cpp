#include "lib/webhook/inspect.hpp"

#include <nlohmann/json.hpp>

#include "lib/util/bytes.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/json.hpp"
#include "lib/util/timefmt.hpp"
#include "lib/webhook/jwt.hpp"
#include "lib/webhook/keys.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot::webhook {

namespace {

using Json = nlohmann::ordered_json;

// Header names whose values are credentials (x-epilot-token is a bearer
// token valid for 10 minutes).
bool is_credential(std::string_view name) {
  for (const char* secret : {"x-epilot-token", "authorization", "x-api-key", "cookie", "proxy-authorization"}) {
    if (util::iequals_ascii(name, secret)) {
      return true;
    }
  }
  return false;
}

bool is_epilot_id(std::string_view id) {
  if (id.size() != k_prefix_message_id.size() + 32 || id.substr(0, 4) != k_prefix_message_id) {
    return false;
  }
  for (char c : id.substr(4)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// The scheme as inspect names it: stable, scripts read it.
std::string_view to_code(Scheme scheme) {
  switch (scheme) {
    case Scheme::hmac:
      return "hmac-sha256";
    case Scheme::ed25519:
      return "ed25519";
    case Scheme::unknown:
      return "unknown";
  }
  return "unknown";
}

Json describe_token(const std::string& token, std::int64_t now) {
  Json out;
  out["verified"] = false;
  auto jwt = decode_jwt(token);
  if (!jwt) {
    out["error"] = jwt.error().message;
    return out;
  }
  out["header"] = jwt->header;
  out["claims"] = jwt->claims;
  const auto& c = jwt->claims;
  if (c.contains("org_id")) {
    out["org_id"] = c["org_id"];
  } else if (c.contains("custom:ivy_org_id")) {
    out["org_id"] = c["custom:ivy_org_id"];
  }
  if (c.contains("token_type")) {
    out["token_type"] = c["token_type"];
  }
  const auto time_claim = [&](const char* name) -> std::optional<std::int64_t> {
    if (c.contains(name) && c[name].is_number_integer()) {
      return c[name].get<std::int64_t>();
    }
    return std::nullopt;
  };
  const auto iat = time_claim("iat");
  const auto exp = time_claim("exp");
  if (iat) {
    out["issued_at"] = util::iso8601(*iat);
  }
  if (exp) {
    out["expires_at"] = util::iso8601(*exp);
    out["expired"] = *exp <= now;
    out["expires_in_seconds"] = *exp - now;
  }
  if (iat && exp) {
    out["lifetime_seconds"] = *exp - *iat;
  }
  return out;
}

Json describe_payload(const std::string& body) {
  auto parsed = util::parse_json<Json>(body);
  if (!parsed) {
    return nullptr;
  }
  const Json& doc = *parsed;
  if (!doc.is_object()) {
    return nullptr;
  }
  Json out;
  const auto copy = [&](const Json& from, const char* key, const char* as) {
    if (from.is_object() && from.contains(key) && !from[key].is_null()) {
      out[as] = from[key];
    }
  };
  copy(doc, "type", "type");
  copy(doc, "timestamp", "event_time");
  const Json data = doc.contains("data") && doc["data"].is_object() ? doc["data"] : Json::object();
  copy(data, "org_id", "org_id");
  if (data.contains("entity")) {
    const auto& e = data["entity"];
    if (e.is_object()) {
      Json entity;
      for (const auto& [key, as] : {std::pair{"_schema", "schema"}, {"_id", "id"}, {"_title", "title"}}) {
        if (e.contains(key)) {
          entity[as] = e[key];
        }
      }
      out["entity"] = entity;
    } else {
      out["entity"] = e;
    }
  }
  copy(data, "trigger_event", "trigger_event");
  copy(data, "execution_id", "execution_id");
  copy(data, "execution_status", "execution_status");
  copy(data, "exection_action_id", "action_id");
  copy(data, "execution_action_id", "action_id");
  if (data.contains("action_config") && data["action_config"].is_object()) {
    const auto& config = data["action_config"];
    copy(config, "name", "action_name");
    copy(config, "app_id", "app_id");
    copy(config, "wait_for_callback", "wait_for_callback");
  }
  if (data.contains("resume_token") && data["resume_token"].is_string()) {
    out["resume_token"] = redact(data["resume_token"].get<std::string>());
  }
  copy(data, "callback_post_url", "callback_post_url");
  return out;
}

}  // namespace

bool looks_like_key(std::string_view text) {
  while (!text.empty() &&
         (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  return text.rfind("-----BEGIN", 0) == 0 || text.rfind(k_prefix_public_key, 0) == 0 ||
         text.rfind(k_prefix_private_key, 0) == 0;
}

Result<Json> inspect_key(std::string_view text) {
  Json out;
  if (text.find("PRIVATE KEY") != std::string_view::npos || text.find(k_prefix_private_key) != std::string_view::npos) {
    auto key = parse_private_key(text);
    EPILOT_TRY(key);
    out["kind"] = "ed25519 private key";
    out["public_key_fingerprint"] = fingerprint(key->public_key);
    out["public_key_whpk"] = to_whpk(key->public_key);
    return out;
  }
  auto key = parse_public_key(text);
  EPILOT_TRY(key);
  out["kind"] = "ed25519 public key";
  out["fingerprint"] = fingerprint(*key);
  out["whpk"] = to_whpk(*key);
  return out;
}

std::string redact(std::string_view value) {
  if (value.size() <= 12) {
    return std::string(value.size(), '*');
  }
  return std::string(value.substr(0, 8)) + "… (" + std::to_string(value.size()) + " chars)";
}

namespace {

// Headers in order, credentials shortened.
Json inspect_headers(const Capture& request) {
  Json headers = Json::array();
  for (const auto& h : request.headers) {
    headers.push_back({{"name", h.name}, {"value", is_credential(h.name) ? redact(h.value) : h.value}});
  }
  return headers;
}

// Svix's names stand in for a missing webhook-* header, marked with the
// name they were read from: they are what the sender meant to send.
class WebhookHeaders {
 public:
  explicit WebhookHeaders(const Capture& request) : m_request(request) {}

  // The `standard` header, else its `svix` stand-in (noted), else nullptr.
  const std::string* find(std::string_view standard, std::string_view svix) {
    if (const auto* value = m_request.find_header(standard)) {
      return value;
    }
    const auto* value = m_request.find_header(svix);
    if (value != nullptr) {
      m_svix_used.push_back(std::string(svix));
    }
    return value;
  }

  // Name the `svix` header in `field` when the last find read it.
  void mark(Json& field, std::string_view svix) const {
    if (!m_svix_used.empty() && m_svix_used.back() == std::string(svix)) {
      field["header"] = std::string(svix);
    }
  }

  const Json& svix_used() const { return m_svix_used; }

 private:
  const Capture& m_request;
  Json m_svix_used = Json::array();
};

// The timestamp as a date, with its age checked against `tolerance`.
Json inspect_timestamp(const std::string& ts, const WebhookHeaders& webhook, std::int64_t now, std::int64_t tolerance) {
  Json t;
  t["value"] = ts;
  webhook.mark(t, k_svix_header_timestamp);
  if (const auto unix = parse_timestamp(ts)) {
    t["unix"] = *unix;
    t["iso"] = util::iso8601(*unix);
    t["age_seconds"] = now - *unix;
    t["within_tolerance"] = now - *unix <= tolerance && *unix - now <= tolerance;
  } else {
    t["error"] = "not a number of seconds";
  }
  return t;
}

// Each entry of a signature header: its version, scheme and state.
Json inspect_signature(const std::string& header) {
  Json entries = Json::array();
  for (const auto& e : parse_signature_header(header)) {
    Json entry;
    entry["version"] = e.version;
    entry["scheme"] = to_code(e.scheme);
    entry["status"] = std::string(describe(e.status));
    if (e.status == EntryStatus::ok || e.status == EntryStatus::wrong_length) {
      entry["bytes"] = e.decoded.size();
    }
    entries.push_back(entry);
  }
  return entries;
}

Json inspect_body(const Capture& request) {
  Json body;
  body["bytes"] = request.body.size();
  body["encoding"] = util::is_valid_utf8(request.body) ? "utf-8" : "binary";
  body["json"] = nlohmann::json::accept(request.body);
  // The capture held the body as JSON, not text: what verify reports as body_parsed.
  body["parsed"] = request.body_parsed;
  return body;
}

}  // namespace

Json inspect_request(const Capture& request, std::int64_t now, std::int64_t tolerance) {
  Json out;
  out["method"] = request.method;
  out["url"] = request.url;
  out["headers"] = inspect_headers(request);
  WebhookHeaders webhook(request);
  if (const auto* id = webhook.find(k_header_id, k_svix_header_id)) {
    out["webhook_id"] = {{"value", *id}, {"epilot_shape", is_epilot_id(*id)}};
    webhook.mark(out["webhook_id"], k_svix_header_id);
  } else {
    out["webhook_id"] = nullptr;
  }
  if (const auto* ts = webhook.find(k_header_timestamp, k_svix_header_timestamp)) {
    out["timestamp"] = inspect_timestamp(*ts, webhook, now, tolerance);
  } else {
    out["timestamp"] = nullptr;
  }
  if (const auto* sig = webhook.find(k_header_signature, k_svix_header_signature)) {
    out["signature"] = inspect_signature(*sig);
  } else {
    out["signature"] = nullptr;
  }
  out["svix_headers"] = webhook.svix_used();
  if (const auto* token = request.find_header(k_header_epilot_token)) {
    out["epilot_token"] = describe_token(*token, now);
  }
  out["body"] = inspect_body(request);
  out["payload"] = describe_payload(request.body);
  return out;
}

}  // namespace epilot::webhook
