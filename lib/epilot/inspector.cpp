#include "lib/epilot/inspector.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "lib/util/base64.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/json.hpp"
#include "lib/webhook/inspect.hpp"

namespace epilot {

namespace {

using Json = nlohmann::ordered_json;

std::string dump(const Json& doc) { return doc.dump(-1, ' ', false, Json::error_handler_t::replace); }

InspectorAnswer json_answer(int status, std::string body) {
  InspectorAnswer answer;
  answer.status = status;
  answer.body = std::move(body);
  return answer;
}

// The longest text filter: a scan of every request kept is long enough.
constexpr std::size_t k_max_filter_text = 256;
// Event streams open at once (the module serves on 16 threads).
constexpr int k_max_streams = 8;

std::string random_hex(const util::RandomSource& random, std::size_t size) {
  util::Bytes bytes(size);
  random(bytes.data(), bytes.size());
  return util::to_hex(bytes);
}

// A decimal request number; nullopt for anything else.
std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

std::optional<VerdictFilter> parse_verdict(std::string_view text) {
  if (text.empty() || text == "all") {
    return VerdictFilter::all;
  }
  if (text == "ok") {
    return VerdictFilter::ok;
  }
  if (text == "failed") {
    return VerdictFilter::failed;
  }
  if (text == "duplicate") {
    return VerdictFilter::duplicate;
  }
  return std::nullopt;
}

// The list's query from the URL's; the error names the bad parameter.
Result<LogQuery> list_query(const InspectorRequest& request) {
  LogQuery query;
  for (const auto& [name, value] : request.query) {
    const auto number = parse_number(value);
    if (name == "limit" && number && *number >= 1 && *number <= 500) {
      query.limit = *number;
    } else if ((name == "before" || name == "after") && number) {
      (name == "before" ? query.before : query.after) = *number;
    } else if (name == "verdict" && parse_verdict(value)) {
      query.verdict = *parse_verdict(value);
    } else if (name == "q" && value.size() <= k_max_filter_text) {
      query.text = value;
    } else {
      return make_error(ErrorCode::usage, "bad parameter " + name +
                                              ": limit is 1 to 500, before and after request numbers, "
                                              "verdict all, ok, failed or duplicate, q at most 256 bytes");
    }
  }
  return query;
}

// The body as the page shows it: as text when it is UTF-8 (and indented
// when it is JSON, up to 1 MiB), and its first 64 KiB as base64 for the hex
// view (the whole is in the capture). Bounded, as every page's request for
// a 10 MiB body would otherwise make several copies of it.
Json body_json(const std::string& body) {
  constexpr std::size_t max_indented = 1024 * 1024;
  constexpr std::size_t max_hex = 64 * 1024;
  Json doc;
  doc["bytes"] = body.size();
  const bool text = util::is_valid_utf8(body);
  doc["text"] = text ? Json(body) : Json();
  // Checked without building a document (a body of 100,000 '[' must not
  // take the stack with it), and laid out as it came, not re-encoded.
  const bool json =
      text && body.size() <= max_indented && util::check_json_nesting(body) && nlohmann::json::accept(body);
  doc["pretty"] = json ? Json(util::indent_json(body)) : Json();
  const auto head = std::string_view(body).substr(0, max_hex);
  doc["base64"] = util::base64_encode(util::Bytes(head.begin(), head.end()));
  return doc;
}

// What each signature entry came to under listen's keys, when it came.
Json signatures_json(const webhook::Verification& v, const webhook::VerifyKeys& keys) {
  const auto outcomes = webhook::entry_outcomes(v, keys);
  auto list = Json::array();
  for (std::size_t i = 0; i < v.entries.size(); ++i) {
    list.push_back({{"version", v.entries[i].version},
                    {"outcome", i < outcomes.size() ? Json(std::string(outcomes[i])) : Json()}});
  }
  return list;
}

Json headers_json(const std::vector<http::Header>& headers) {
  auto list = Json::array();
  for (const auto& h : headers) {
    list.push_back(Json::array({h.name, h.value}));
  }
  return list;
}

// The parts of a path under /api/requests/: the number and what follows it.
struct RequestPath {
  std::optional<std::uint64_t> seq;
  std::string_view rest;
};

RequestPath request_path(std::string_view path) {
  constexpr std::string_view prefix = "/api/requests/";
  path.remove_prefix(prefix.size());
  const auto slash = path.find('/');
  return {parse_number(path.substr(0, slash)), slash == std::string_view::npos ? "" : path.substr(slash)};
}

struct ReplayAsk {
  ReplayTarget target = ReplayTarget::listen;
  bool as_captured = false;
};

// {"to": "listen" | "app", "as_captured": bool (false when left out)}.
std::optional<ReplayAsk> replay_ask(std::string_view body) {
  const auto doc = util::parse_json_or_discarded<Json>(body);
  if (!doc.is_object() || !doc.contains("to") || (doc["to"] != "listen" && doc["to"] != "app")) {
    return std::nullopt;
  }
  ReplayAsk ask;
  ask.target = doc["to"] == "app" ? ReplayTarget::app : ReplayTarget::listen;
  if (doc.contains("as_captured")) {
    if (!doc["as_captured"].is_boolean()) {
      return std::nullopt;
    }
    ask.as_captured = doc["as_captured"].get<bool>();
  }
  return ask;
}

// What `inspect` shows of `capture`, but that a body over 1 MiB is not read
// as JSON for its payload summary: a page's request must not cost a parse
// of a 10 MiB body.
Json inspect_json(const webhook::Capture& capture, std::int64_t now, std::int64_t tolerance) {
  constexpr std::size_t max_read = 1024 * 1024;
  if (capture.body.size() <= max_read) {
    return webhook::inspect_request(capture, now, tolerance);
  }
  webhook::Capture light;
  light.method = capture.method;
  light.url = capture.url;
  light.headers = capture.headers;
  light.body_parsed = capture.body_parsed;
  auto doc = webhook::inspect_request(light, now, tolerance);
  doc["body"]["bytes"] = capture.body.size();
  doc["body"]["encoding"] = util::is_valid_utf8(capture.body) ? "utf-8" : "binary";
  doc["body"]["json"] = nullptr;  // not read
  return doc;
}

// Browsers say where a request comes from: only the inspector's own page
// (same-origin) and the user (none: typed, bookmarked) may use it.
bool cross_site(const InspectorRequest& request) {
  const auto* site = request.header("sec-fetch-site");
  return site != nullptr && *site != "same-origin" && *site != "none";
}

InspectorAnswer method_not_allowed(std::string_view allow) {
  auto answer = inspector_error(405, "method_not_allowed", "this resource takes " + std::string(allow));
  answer.headers.emplace_back("Allow", std::string(allow));
  return answer;
}

}  // namespace

InspectorAnswer inspector_error(int status, std::string_view code, std::string_view message) {
  return json_answer(status, dump(Json{{"error", code}, {"message", message}}));
}

Inspector::Inspector(InspectorConfig config, RequestLog& log)
    : m_config(std::move(config)), m_log(log), m_token(random_hex(m_config.random, 16)) {}

bool Inspector::host_allowed(const InspectorRequest& request) const {
  const auto* host = request.header("host");
  if (host == nullptr) {
    return false;
  }
  const auto port = ":" + std::to_string(m_port.load());
  if (*host == "127.0.0.1" + port || *host == "localhost" + port) {
    return true;
  }
  // Browsers leave out the scheme's own port.
  return m_port.load() == 80 && (*host == "127.0.0.1" || *host == "localhost");
}

bool Inspector::origin_allowed(const InspectorRequest& request) const {
  const auto* origin = request.header("origin");
  if (origin == nullptr) {
    return true;  // not a browser's cross-site request: those say their origin
  }
  const auto port = m_port.load() == 80 ? std::string() : ":" + std::to_string(m_port.load());
  return *origin == "http://127.0.0.1" + port || *origin == "http://localhost" + port;
}

InspectorAnswer Inspector::handle(const InspectorRequest& request) {
  const auto port = std::to_string(m_port.load());
  auto answer = !host_allowed(request)
                    ? inspector_error(403, "forbidden_host",
                                      "the inspector answers to 127.0.0.1:" + port + " and localhost:" + port + " only")
                : cross_site(request) ? inspector_error(403, "cross_site", "the inspector answers its own page only")
                                      : route(request);
  answer.headers.emplace_back("Cache-Control", "no-store");
  answer.headers.emplace_back("X-Content-Type-Options", "nosniff");
  answer.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  return answer;
}

InspectorAnswer Inspector::route(const InspectorRequest& request) {
  const auto& path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/" || path == "/api/info" || path == "/api/requests" || path == "/api/events") {
    if (!get) {
      return method_not_allowed("GET, HEAD");
    }
    return path == "/"               ? page()
           : path == "/api/info"     ? info()
           : path == "/api/requests" ? list(request)
                                     : events(request);
  }
  if (path.starts_with("/api/requests/")) {
    const auto [seq, rest] = request_path(path);
    if (seq && rest.empty()) {
      return get ? one(*seq) : method_not_allowed("GET, HEAD");
    }
    if (seq && rest == "/capture") {
      return get ? capture_file(*seq) : method_not_allowed("GET, HEAD");
    }
    if (seq && rest == "/replay") {
      return request.method == "POST" ? replay(*seq, request) : method_not_allowed("POST");
    }
  }
  return inspector_error(404, "not_found", "no such page: the API is under /api/ (see man epilot-action)");
}

InspectorAnswer Inspector::page() {
  const auto nonce = random_hex(m_config.random, 16);
  std::string html = m_config.page;
  for (const auto& [mark, value] : {std::pair{std::string_view("{{token}}"), std::string_view(m_token)},
                                    std::pair{std::string_view("{{nonce}}"), std::string_view(nonce)}}) {
    for (auto at = html.find(mark); at != std::string::npos; at = html.find(mark, at + value.size())) {
      html.replace(at, mark.size(), value);
    }
  }
  InspectorAnswer answer;
  answer.content_type = "text/html; charset=utf-8";
  answer.body = std::move(html);
  // Nothing from elsewhere, no script but the page's own, no framing: even
  // a request's bytes that somehow became markup could not run.
  answer.headers = {
      {"Content-Security-Policy", "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce +
                                      "'; connect-src 'self'; img-src data:; frame-ancestors 'none'; "
                                      "base-uri 'none'; form-action 'none'"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"}};
  return answer;
}

InspectorAnswer Inspector::info() const {
  Json doc;
  doc["listen_url"] = m_config.listen_url;
  doc["app_url"] = m_config.app_url.empty() ? Json() : Json(m_config.app_url);
  doc["resign"] = {{"v1a", m_config.private_key.has_value()}, {"v1", m_config.secrets.size()}};
  doc["tolerance"] = m_config.tolerance;
  doc["latest"] = m_log.latest();
  return json_answer(200, dump(doc));
}

InspectorAnswer Inspector::list(const InspectorRequest& request) const {
  const auto query = list_query(request);
  if (!query) {
    return inspector_error(400, "bad_request", query.error().message);
  }
  const auto page = m_log.page(*query);
  std::string body = "{\"requests\":[";
  for (std::size_t i = 0; i < page.requests.size(); ++i) {
    body.append(i == 0 ? "" : ",").append(page.requests[i]->summary);
  }
  body.append("],\"more\":").append(page.more ? "true" : "false");
  body.append(",\"total\":").append(std::to_string(page.total));
  body.append(",\"latest\":").append(std::to_string(page.latest));
  body.append(",\"evicted\":").append(std::to_string(page.evicted)).append("}");
  return json_answer(200, std::move(body));
}

InspectorAnswer Inspector::one(std::uint64_t seq) const {
  const auto entry = m_log.find(seq);
  if (!entry) {
    return inspector_error(404, "not_found", "no request " + std::to_string(seq) + " is kept");
  }
  Json doc;
  doc["request"] = Json::parse(entry->summary);
  if (!entry->received) {
    doc["refused"] = true;  // the server turned it away before it could be read whole
    return json_answer(200, dump(doc));
  }
  const auto& capture = entry->received->request;
  const auto& v = entry->received->result.verification;
  doc["url"] = capture.url;
  doc["headers"] = headers_json(capture.headers);
  doc["signatures"] = signatures_json(v, m_config.keys);
  doc["matched"] = v.match ? Json{{"version", v.match->version}, {"key", v.match->key_name}} : Json();
  doc["age_seconds"] = v.timestamp ? Json(v.age) : Json();
  doc["inspect"] = inspect_json(capture, entry->received->received_at, m_config.tolerance);
  doc["body"] = body_json(capture.body);
  return json_answer(200, dump(doc));
}

InspectorAnswer Inspector::capture_file(std::uint64_t seq) const {
  const auto entry = m_log.find(seq);
  if (!entry || !entry->received) {
    return inspector_error(404, "not_found", "no capture of request " + std::to_string(seq) + " is kept");
  }
  auto answer = json_answer(200, received_record(*entry->received));
  answer.headers.emplace_back("Content-Disposition",
                              "attachment; filename=\"request-" + std::to_string(seq) + ".json\"");
  return answer;
}

// The capture sent again as new: the same method, target, fields and body,
// with a fresh webhook-id and timestamp, signed with every key it has.
std::optional<http::wire::Request> Inspector::resigned(const webhook::Capture& capture) const {
  if (!m_config.private_key && m_config.secrets.empty()) {
    return std::nullopt;
  }
  http::wire::Request out;
  out.method = capture.method;
  out.target = capture.url;
  for (const auto& h : capture.headers) {
    if (!webhook::is_signing_header(h.name)) {
      out.headers.push_back(h);
    }
  }
  const auto id = webhook::generate_message_id(m_config.random);
  const auto timestamp = std::to_string(m_config.now());
  std::string signature;
  if (m_config.private_key) {
    signature = webhook::sign_v1a(*m_config.private_key, id, timestamp, capture.body);
  }
  for (const auto& secret : m_config.secrets) {
    signature.append(signature.empty() ? "" : " ").append(webhook::sign_v1(secret, id, timestamp, capture.body));
  }
  out.headers.push_back({std::string(k_header_id), id});
  out.headers.push_back({std::string(k_header_timestamp), timestamp});
  out.headers.push_back({std::string(k_header_signature), signature});
  out.body = capture.body;
  return out;
}

InspectorAnswer Inspector::replay(std::uint64_t seq, const InspectorRequest& request) {
  const auto* token = request.header("x-inspector-token");
  if (token == nullptr || token->size() != m_token.size() ||
      !util::constant_time_equal(reinterpret_cast<const std::uint8_t*>(token->data()),
                                 reinterpret_cast<const std::uint8_t*>(m_token.data()), m_token.size()) ||
      !origin_allowed(request)) {
    return inspector_error(403, "forbidden", "a replay must come from the inspector's own page (its token and origin)");
  }
  const auto ask = replay_ask(request.body);
  if (!ask) {
    return inspector_error(400, "bad_request",
                           R"(the body is {"to": "listen" or "app", "as_captured": true or false})");
  }
  if (ask->target == ReplayTarget::app && m_config.app_url.empty()) {
    return inspector_error(409, "no_app", "listen forwards to no app");
  }
  const auto entry = m_log.find(seq);
  if (!entry || !entry->received) {
    return inspector_error(404, "not_found", "no capture of request " + std::to_string(seq) + " is kept");
  }
  const auto* capture = &entry->received->request;
  const auto outgoing =
      ask->as_captured ? std::optional(http::wire::Request{capture->method, capture->url, http::wire::Version::http11,
                                                           capture->headers, capture->body})
                       : resigned(*capture);
  if (!outgoing) {
    return inspector_error(409, "no_signing_key", "listen has no key to sign with: give it a private key or a secret");
  }
  const auto sent = m_config.send(ask->target, *outgoing);
  const auto id = std::find_if(outgoing->headers.begin(), outgoing->headers.end(),
                               [](const http::Header& h) { return util::iequals_ascii(h.name, k_header_id); });
  Json doc;
  doc["outcome"] = http::to_code(sent.outcome);
  doc["status"] = sent.outcome == http::ForwardOutcome::answered ? Json(sent.answer.status) : Json();
  doc["ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(sent.latency).count();
  doc["error"] = sent.error.empty() ? Json() : Json(sent.error);
  doc["webhook_id"] = id != outgoing->headers.end() ? Json(id->value) : Json();
  doc["body"] = sent.answer.body.substr(0, 4096);
  return json_answer(200, dump(doc));
}

InspectorAnswer Inspector::events(const InspectorRequest& request) {
  const auto* last = request.header("last-event-id");
  const auto* after = request.param("after");
  const bool known =
      std::all_of(request.query.begin(), request.query.end(), [](const auto& param) { return param.first == "after"; });
  if (!known || (after != nullptr && !parse_number(*after))) {
    return inspector_error(400, "bad_request", "the one parameter is after, a request number");
  }
  // Each stream holds one of the module's threads: the rest stay free for
  // the page's other requests.
  if (++m_streams > k_max_streams) {
    --m_streams;
    return inspector_error(503, "busy", "too many event streams are open");
  }
  InspectorAnswer answer;
  answer.content_type = "text/event-stream";
  answer.event_stream = true;
  // A reconnecting EventSource says where it was; that comes first.
  const auto from = parse_number(last != nullptr ? *last : after != nullptr ? *after : "");
  answer.stream_after = std::min(from.value_or(m_log.latest()), m_log.latest());
  return answer;
}

std::optional<std::string> Inspector::next_events(std::uint64_t& after, std::chrono::milliseconds wait) {
  constexpr std::size_t batch = 100;
  const auto added = m_log.wait_after(after, batch, wait);
  if (!added) {
    return std::nullopt;
  }
  std::string text;
  for (const auto& entry : *added) {
    text.append("id: ").append(std::to_string(entry->seq)).append("\nevent: request\ndata: ");
    text.append(entry->summary).append("\n\n");
    after = entry->seq;
  }
  // Faster than a page can follow: say so, and go on from the newest.
  if (const auto latest = m_log.latest(); added->size() == batch && latest > after) {
    text.append("id: ").append(std::to_string(latest)).append("\nevent: gap\ndata: {\"latest\":");
    text.append(std::to_string(latest)).append("}\n\n");
    after = latest;
  }
  return text;
}

}  // namespace epilot
