#include "lib/epilot/replay_plan.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "lib/http/wire.hpp"
#include "lib/util/base64.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/crypto.hpp"
#include "lib/util/json.hpp"
#include "lib/webhook/jwt.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot {

namespace {

using Json = nlohmann::ordered_json;

// epilot's example org id (from its docs), for a mock token when the
// payload names none.
constexpr std::string_view k_fallback_org_id = "739224";
// A mock token is renewed this often, so that a long run never sends one
// near its expiry.
constexpr std::int64_t k_mock_token_renew_seconds = 60;

}  // namespace

std::string org_id_of(std::string_view body) {
  const auto doc = util::parse_json_or_discarded<Json>(body);
  if (doc.is_object() && doc.contains("data") && doc["data"].is_object() && doc["data"].contains("org_id")) {
    const auto& org = doc["data"]["org_id"];
    if (org.is_string()) {
      return org.get<std::string>();
    }
    if (org.is_number_integer()) {
      return org.dump();
    }
  }
  return std::string(k_fallback_org_id);
}

bool is_transport_header(std::string_view name) {
  static constexpr std::string_view k_names[] = {
      "host", "content-length", "transfer-encoding", "connection", "keep-alive",
      "te",   "trailer",        "upgrade",           "expect",     "proxy-connection"};
  if (!name.empty() && name.front() == ':') {
    return true;
  }
  for (const auto n : k_names) {
    if (util::iequals_ascii(name, n)) {
      return true;
    }
  }
  return false;
}

bool waits_for_callback(std::string_view body) {
  const auto doc = util::parse_json_or_discarded<Json>(body);
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_object()) {
    return false;
  }
  const auto& data = doc["data"];
  if (data.contains("callback_post_url") || data.contains("resume_token")) {
    return true;
  }
  const auto config = data.find("action_config");
  if (config != data.end() && config->is_object()) {
    const auto wait = config->find("wait_for_callback");
    return wait != config->end() && wait->is_boolean() && wait->get<bool>();
  }
  return false;
}

Result<std::string> with_callback(std::string_view body, const std::string& url, const std::string& token) {
  auto doc = util::parse_json_or_discarded<Json>(body);
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_object()) {
    return make_error(ErrorCode::bad_input, "a callback request's body has no data object");
  }
  doc["data"]["callback_post_url"] = url;
  doc["data"]["resume_token"] = token;
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<std::string> RequestRenderer::header_lines(const ReplayItem& item, const std::vector<http::Header>& own,
                                                  std::string_view body) const {
  std::string lines;
  bool content_type = false;
  bool user_agent = false;
  const auto add = [&](const http::Header& h) -> Status {
    auto status = http::validate_header(h.name, h.value);
    if (!status.ok()) {
      return make_error(status.error().code, item.name + ": " + status.error().message);
    }
    content_type = content_type || util::iequals_ascii(h.name, k_header_content_type);
    user_agent = user_agent || util::iequals_ascii(h.name, "user-agent");
    lines.append(h.name).append(": ").append(h.value).append("\r\n");
    return ok_status();
  };
  for (const auto& h : own) {
    if (is_transport_header(h.name)) {
      continue;
    }
    const bool overridden = std::any_of(m_options.headers.begin(), m_options.headers.end(),
                                        [&](const http::Header& o) { return util::iequals_ascii(o.name, h.name); });
    if (overridden) {
      continue;
    }
    if (m_options.mode == SendMode::resign &&
        (webhook::is_signing_header(h.name) ||
         (m_options.token_mode != TokenMode::keep && util::iequals_ascii(h.name, k_header_epilot_token)))) {
      continue;
    }
    EPILOT_TRY(add(h));
  }
  for (const auto& h : m_options.headers) {
    EPILOT_TRY(add(h));
  }
  if (!content_type && m_options.mode == SendMode::resign) {
    lines.append(k_header_content_type).append(": ").append(content_type_for(body)).append("\r\n");
  }
  if (!user_agent && !m_options.user_agent.empty()) {
    lines.append("user-agent: ").append(m_options.user_agent).append("\r\n");
  }
  return lines;
}

Result<std::string> RequestRenderer::body_for_send(std::size_t index, const SendContext& context,
                                                   std::vector<http::Header>* headers) const {
  const auto& item = m_items[index];
  const auto& prepared = m_prepared[index];
  if (!prepared.dynamic) {
    return prepared.body;
  }
  auto instance = instantiate_fixture(*item.fixture, context.fill, m_options.sets);
  EPILOT_TRY(instance);
  if (headers != nullptr) {
    *headers = std::move(instance->headers);
  }
  return std::move(instance->body);
}

Result<std::unique_ptr<RequestRenderer>> RequestRenderer::create(std::vector<ReplayItem> items,
                                                                 ReplayRequestOptions options, SendContext context,
                                                                 unsigned threads) {
  std::unique_ptr<RequestRenderer> r(new RequestRenderer());
  r->m_options = std::move(options);
  r->m_context = std::move(context);
  r->m_items = std::move(items);
  r->m_threads.resize(std::max(1u, threads));
  for (auto& state : r->m_threads) {
    state.tokens.assign(r->m_items.size(), {-1, {}});
  }
  auto fill = r->m_context.fill;
  fill.now_ms = r->m_context.now_ms();
  for (std::size_t i = 0; i < r->m_items.size(); ++i) {
    auto& item = r->m_items[i];
    Prepared prepared;
    std::vector<http::Header> own = item.capture.headers;
    std::string body;
    if (item.fixture != nullptr) {
      if (r->m_options.mode == SendMode::as_is) {
        return make_error(ErrorCode::usage,
                          item.name +
                              " is a payload or fixture, not a capture: it has no captured signature to send "
                              "as it is; payloads and fixtures are signed at send time");
      }
      prepared.dynamic = has_placeholders(item.fixture->text);
      // Rendering once finds a missing {{env.X}} or a bad override before anything is sent.
      auto instance = instantiate_fixture(*item.fixture, fill, r->m_options.sets);
      if (!instance.ok()) {
        return with_context(instance.error(), item.name);
      }
      own = instance->headers;
      body = std::move(instance->body);
    } else if (r->m_options.mode == SendMode::resign) {
      auto changed = apply_overrides(item.capture.body, r->m_options.sets);
      if (!changed.ok()) {
        return with_context(changed.error(), item.name);
      }
      body = std::move(changed).value();
    } else {
      body = item.capture.body;
    }
    auto method = item.capture.method.empty() ? std::string(k_default_method) : item.capture.method;
    if (!http::wire::is_token(method)) {
      return make_error(ErrorCode::bad_input,
                        item.name + ": the method '" + http::wire::printable(method) + "' is not an HTTP token");
    }
    prepared.callback =
        r->m_options.mode == SendMode::resign && !r->m_options.callback_url.empty() && waits_for_callback(body);
    auto lines = r->header_lines(item, own, body);
    if (!lines.ok()) {
      return lines.error();
    }
    prepared.prefix =
        method + " " + r->m_options.target + " HTTP/1.1\r\nhost: " + r->m_options.host + "\r\n" + lines.value();
    if (const auto* id = item.capture.find_header(k_header_id); id != nullptr && !id->empty()) {
      prepared.kept_id = *id;
    } else {
      prepared.kept_id = webhook::generate_message_id(r->m_context.fill.random);
    }
    prepared.org_id = org_id_of(body);
    prepared.body = std::move(body);  // for a dynamic fixture: the one checked here, sent only should a later fill fail
    r->m_prepared.push_back(std::move(prepared));
  }
  r->mark_repeated_ids();
  return r;
}

bool RequestRenderer::ids_kept(std::size_t item) const {
  if (m_options.mode == SendMode::as_is) {
    const auto* id = m_items[item].capture.find_header(k_header_id);
    return id != nullptr && !id->empty();
  }
  return m_options.keep_id;
}

void RequestRenderer::mark_repeated_ids() {
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < m_prepared.size(); ++i) {
    m_prepared[i].repeats_earlier = ids_kept(i) && !seen.insert(m_prepared[i].kept_id).second;
  }
}

bool RequestRenderer::is_repeat(std::uint64_t job) const {
  const auto index = item_of(job);
  return ids_kept(index) && (job >= m_items.size() || m_prepared[index].repeats_earlier);
}

void RequestRenderer::random_bytes(ThreadState& state, std::uint8_t* out, std::size_t size) const {
  while (size > 0) {
    if (state.pool_used == state.pool.size()) {
      m_context.fill.random(state.pool.data(), state.pool.size());
      state.pool_used = 0;
    }
    const auto n = std::min(size, state.pool.size() - state.pool_used);
    std::memcpy(out, state.pool.data() + state.pool_used, n);
    // Bytes handed out are wiped from the pool: nothing random is kept twice.
    std::memset(state.pool.data() + state.pool_used, 0, n);
    state.pool_used += n;
    out += n;
    size -= n;
  }
}

std::string RequestRenderer::message_id(ThreadState& state) const {
  util::Bytes raw(k_message_id_random_size);
  random_bytes(state, raw.data(), raw.size());
  return std::string(k_prefix_message_id) + util::to_hex(raw);
}

void RequestRenderer::sign_into(ThreadState& state, std::string_view id, std::string_view body,
                                std::string& head) const {
  head.append(k_header_signature).append(": ");
  bool first = true;
  if (m_options.private_key) {
    auto& content = state.scratch;
    content.assign(id).append(1, '.').append(state.timestamp).append(1, '.').append(body);
    const auto sig = util::ed25519_sign(m_options.private_key->seed, m_options.private_key->public_key.bytes, content);
    head.append(k_version_ed25519).append(1, ',');
    head.append(util::base64_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size())));
    first = false;
  }
  for (const auto& secret : m_options.secrets) {
    const auto mac = util::hmac_sha256(secret.bytes, {id, ".", state.timestamp, ".", body});
    if (!first) {
      head.append(1, ' ');
    }
    head.append(k_version_hmac).append(1, ',');
    head.append(util::base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())));
    first = false;
  }
  head.append("\r\n");
}

void RequestRenderer::render(unsigned thread, std::uint64_t job, http::OutgoingRequest& out) {
  auto& state = m_threads[thread];
  const auto index = item_of(job);
  const auto& prepared = m_prepared[index];
  const auto& item = m_items[index];
  const auto now_ms = m_context.now_ms();
  out.head_method = item.capture.method == "HEAD";
  out.head = prepared.prefix;
  out.body = prepared.body;
  if (prepared.dynamic || prepared.callback) {
    SendContext context{m_context.now_ms, m_context.fill};
    context.fill.now_ms = now_ms;
    std::vector<http::Header> headers;
    auto body = body_for_send(index, context, prepared.dynamic ? &headers : nullptr);
    // create() rendered this item once with the same inputs, so only the
    // clock and randomness differ now; should it fail regardless, the body
    // checked then is sent.
    const bool rendered = body.ok();
    out.storage = rendered ? std::move(body).value() : prepared.body;
    if (prepared.dynamic && rendered) {
      auto lines = header_lines(item, headers, out.storage);
      if (lines.ok()) {
        out.head = prepared.prefix.substr(0, prepared.prefix.find("\r\n") + 2) + "host: " + m_options.host + "\r\n" +
                   lines.value();
      }
    }
    if (prepared.callback) {
      util::Bytes raw(16);
      random_bytes(state, raw.data(), raw.size());
      CallbackRequest request{job, "rt_" + util::to_hex(raw)};
      if (auto changed = with_callback(out.storage, m_options.callback_url, request.resume_token); changed.ok()) {
        out.storage = std::move(changed).value();
        if (on_callback) {
          on_callback(request);
        }
      }
    }
    out.body = out.storage;
  }

  if (m_options.mode == SendMode::resign) {
    const auto id = m_options.keep_id ? prepared.kept_id : message_id(state);
    const auto second = now_ms / 1000;
    if (second != state.second) {
      state.second = second;
      state.timestamp = std::to_string(second);
    }
    out.head.append(k_header_id).append(": ").append(id).append("\r\n");
    out.head.append(k_header_timestamp).append(": ").append(state.timestamp).append("\r\n");
    sign_into(state, id, out.body, out.head);
    if (m_options.token_mode == TokenMode::given) {
      out.head.append(k_header_epilot_token).append(": ").append(m_options.token).append("\r\n");
    } else if (m_options.token_mode == TokenMode::mock && m_options.token_key) {
      auto& [issued, token] = state.tokens[index];
      if (issued < 0 || second - issued >= k_mock_token_renew_seconds) {
        issued = second;
        token = mock_epilot_token(prepared.org_id, second, *m_options.token_key);
      }
      out.head.append(k_header_epilot_token).append(": ").append(token).append("\r\n");
    }
    out.label = id;
  } else if (const auto* id = item.capture.find_header(k_header_id)) {
    out.label = *id;
  }
  out.head.append("content-length: ").append(std::to_string(out.body.size())).append("\r\n\r\n");
}

}  // namespace epilot
