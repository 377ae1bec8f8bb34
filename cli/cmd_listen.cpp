// `epilot-action listen`: a local endpoint that verifies every request,
// captures it byte for byte, and answers like a custom-action endpoint.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/commands.hpp"
#include "cli/environment.hpp"
#include "cli/flags.hpp"
#include "cli/keysource.hpp"
#include "cli/listen_inspector.hpp"
#include "cli/signals.hpp"
#include "cli/verify_keys.hpp"
#include "cli/wall_clock.hpp"
#include "lib/epilot/action_receiver.hpp"
#include "lib/epilot/resume_call.hpp"
#include "lib/http/server.hpp"
#include "lib/http/url.hpp"
#include "lib/http/wire.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"
#include "lib/util/json.hpp"
#include "lib/webhook/capture_sink.hpp"

namespace epilot::cli {

namespace {

struct ListenOptions {
  std::string host = "127.0.0.1";
  int port = 3000;
  std::string path;  // empty: any
  VerifyKeyFlags keys;
  std::int64_t tolerance = k_default_tolerance_seconds;
  bool accept_unsigned = false;
  bool allow_duplicates = false;
  int respond = 0;
  std::string respond_body;
  std::string skip;
  std::string fail_reason;
  std::chrono::milliseconds delay{0};
  std::string out;
  std::string out_dir;
  OutputFormat format = OutputFormat::text;
  std::size_t max_requests = 0;
  std::chrono::milliseconds duration{0};  // 0: no limit
  std::string forward_to;                 // the app's URL; empty: listen answers itself
  bool forward_unverified = false;        // forward requests that do not verify too (marked)
  std::chrono::milliseconds forward_timeout{10'000};
  const CLI::Option* timeout_option = nullptr;  // --timeout: only with --forward-to (it was --duration once)
  std::optional<std::string> old_skip;          // of --skip-reason, refused
  const CLI::Option* delay_option = nullptr;    // for the text --delay was given as
  std::optional<std::string> old_fail;          // of --fail-reason, refused
  std::size_t max_body = 10 * 1024 * 1024;
  std::size_t max_connections = 1000;
  std::chrono::milliseconds read_timeout{10'000};
  bool quiet = false;
  bool no_callback = false;
  std::optional<int> ui_port;  // --ui: the web inspector's port
  std::string private_key;     // what the inspector re-signs v1a with
};

// A resume POST may take this long; while listen stops, the last ones get
// this long to start.
constexpr std::chrono::seconds k_callback_timeout{10};
// How long after its answer a callback is sent, at the least (see call_back).
constexpr auto k_callback_margin = std::chrono::milliseconds(50);
// Calls waiting to be sent; beyond this a verified request's call is
// dropped, and said so, rather than letting memory grow.
constexpr std::size_t k_max_pending_callbacks = 256;

// Open listen's --out and --out-dir (lib/webhook/capture_sink.hpp), warning
// first when the file is readable by others, as captures hold tokens.
void open_sink(webhook::CaptureSink& sink, const ListenOptions& opts) {
  auto opened = sink.open({opts.out, opts.out_dir});
  if (sink.file_readable_by_others()) {
    print_warning(opts.out + " can be read by other users, and captures hold tokens (chmod 600 it)");
  }
  take(std::move(opened));
}

// Stops the server once, from whichever of signal, count or clock comes first.
class Stopper {
 public:
  explicit Stopper(http::HttpServer& server) : m_server(server) {}
  void stop(const char* why) {
    std::lock_guard lock(m_mutex);
    if (m_why == nullptr) {
      m_why = why;
      m_server.stop();
      m_cv.notify_all();
    }
  }
  void wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, timeout, [&] { return m_why != nullptr; });
  }
  const char* why() {
    std::lock_guard lock(m_mutex);
    return m_why;
  }

 private:
  http::HttpServer& m_server;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  const char* m_why = nullptr;
};

// The path of a request target. The query is left out: it may carry a token.
std::string_view target_path(std::string_view target) { return http::wire::split_target(target).path; }

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

std::string json_line(const Json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void emit(const ListenOptions& opts, const std::string& line) {
  if (opts.quiet) {
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

// The status and the tag every text line starts with, the tag coloured by
// what it says.
std::string status_and_tag(int status, std::string_view tag) {
  const auto tone = tag == "ok" ? Tone::good : tag == "DUP" ? Tone::warn : Tone::bad;
  return std::to_string(status) + "  " + toned(tag, tone, STDOUT_FILENO, 7) + "  ";
}

// What the text lines start with: the status, a tag, the method and path.
std::string text_prefix(int status, const char* tag, std::string_view method, std::string_view path) {
  return status_and_tag(status, tag) + terminal_text(method) + " " + terminal_text(path);
}

// The same for a request whose request line could not be read: the start of
// the line, quoted.
std::string text_prefix(int status, const char* tag, std::string_view line) {
  return status_and_tag(status, tag) + ("\"" + terminal_text(line) + "\"");
}

// What the app made of a forwarded request, for the text line: "  -> app
// 201 in 3 ms", or why it gave no answer.
std::string forward_text(const Received& r) {
  if (!r.forwarded) {
    return "";
  }
  const auto& f = *r.forwarded;
  std::string text = f.unverified ? "  -> app (unverified) " : "  -> app ";
  if (f.outcome == http::ForwardOutcome::answered) {
    return text + std::to_string(f.status) + " in " + std::to_string(f.milliseconds) + " ms";
  }
  return text + std::string(http::to_code(f.outcome)) + ": " + terminal_text(f.error);
}

void print_event(const ListenOptions& opts, const Received& r, std::string_view path) {
  if (opts.quiet) {
    return;  // before any line is built: this runs for every request
  }
  const auto& v = r.result.verification;
  const auto id = v.id.empty() ? std::string("-") : terminal_text(v.id);
  if (opts.format == OutputFormat::json) {
    Json doc;
    doc["event"] = "request";
    doc["method"] = r.request.method;
    doc["path"] = std::string(path);
    doc["url"] = http::shown_url(r.request.url);  // the query may carry a token: the capture file has it all
    doc["webhook_id"] = v.id.empty() ? Json() : Json(v.id);
    doc["verdict"] = to_code(v.verdict);
    doc["duplicate"] = r.duplicate;
    doc["status"] = r.answer.status;
    auto& reasons = doc["reasons"];
    reasons = Json::array();
    for (const auto& reason : r.result.reasons) {
      reasons.push_back({{"code", to_code(reason.code)}, {"message", reason.message}});
    }
    if (const auto& f = r.forwarded) {
      const bool answered = f->outcome == http::ForwardOutcome::answered;
      doc["forwarded"] = {{"outcome", http::to_code(f->outcome)},
                          {"status", answered ? Json(f->status) : Json()},
                          {"ms", f->milliseconds},
                          {"error", answered ? Json() : Json(f->error)},
                          {"unverified", f->unverified}};
    }
    emit(opts, json_line(doc));
    return;
  }
  std::string line;
  if (r.duplicate) {
    line = text_prefix(r.answer.status, "DUP", r.request.method, path) + "  " + id + "  seen within the last " +
           std::to_string(2 * opts.tolerance) + " s";
  } else if (v.ok()) {
    line = text_prefix(r.answer.status, "ok", r.request.method, path) + "  " + id + "  " + v.match->version +
           " verified with " + v.match->key_name;
  } else {
    line = text_prefix(r.answer.status, "FAIL", r.request.method, path) + "  " + id + "  " +
           (r.result.reasons.empty()
                ? std::string(to_code(v.verdict))
                : std::string(to_code(r.result.reasons[0].code)) + ": " + terminal_text(r.result.reasons[0].message));
  }
  emit(opts, line + forward_text(r) + "\n");
}

// A request answered without being verified: refused by the server (400,
// 408, 413, 431, 505) or by --path (404). `code` is a snake_case reason.
void print_refusal(const ListenOptions& opts, const http::Refusal& refusal, std::string_view code) {
  const auto path = target_path(refusal.target);
  // An unreadable request line is shown as far as it is known (already
  // escaped), its query left out as for any other request.
  const auto line = std::string_view(refusal.line).substr(0, refusal.line.find('?'));
  if (opts.format == OutputFormat::json) {
    Json doc;
    doc["event"] = "request";
    doc["method"] = refusal.method.empty() ? Json() : Json(refusal.method);
    doc["path"] = refusal.method.empty() ? Json() : Json(std::string(path));
    if (refusal.method.empty()) {
      doc["request_line"] = std::string(line);
    }
    doc["webhook_id"] = nullptr;
    doc["verdict"] = "refused";
    doc["duplicate"] = false;
    doc["status"] = refusal.status;
    doc["reasons"] = Json::array({{{"code", std::string(code)}, {"message", refusal.message}}});
    emit(opts, json_line(doc));
    return;
  }
  const auto prefix = refusal.method.empty() ? text_prefix(refusal.status, "REFUSED", line)
                                             : text_prefix(refusal.status, "REFUSED", refusal.method, path);
  emit(opts, prefix + "  -  " + std::string(code) + ": " + terminal_text(refusal.message) + "\n");
}

// The reason code of a server refusal: its short error, in snake_case.
std::string refusal_code(const http::Refusal& refusal) {
  auto code = refusal.error;
  std::replace(code.begin(), code.end(), ' ', '_');
  return code;
}

ReceiverConfig receiver_config(const ListenOptions& opts) {
  ReceiverConfig config;
  if (!opts.accept_unsigned || !opts.keys.public_keys.empty() || !opts.keys.secrets.secrets.empty() ||
      !opts.keys.secrets.secret_files.empty() || opts.keys.wants_epilot_key()) {
    auto keys = collect_verify_keys(opts.keys);
    config.keys = std::move(keys.keys);
    config.other_keys = std::move(keys.other);
  }
  config.tolerance = opts.tolerance;
  config.accept_unsigned = opts.accept_unsigned;
  config.allow_duplicates = opts.allow_duplicates;
  if (!opts.skip.empty() && !opts.fail_reason.empty()) {
    fail(ErrorCode::usage, "--skip-reason can't be combined with --fail-reason");
  }
  if (!opts.skip.empty()) {
    config.shape = AnswerShape::skip;
    config.reason = opts.skip;
  } else if (!opts.fail_reason.empty()) {
    config.shape = AnswerShape::fail;
    config.reason = opts.fail_reason;
  }
  config.status = opts.respond;
  if (!opts.respond_body.empty()) {
    config.body = take(util::read_file(opts.respond_body, k_max_input_size));
  }
  return config;
}

void print_callback(const ListenOptions& opts, const ResumeOutcome& o) {
  const auto url = http::shown_url(o.call.url);
  // The client's message names the whole URL; its query may hold a credential.
  auto error = o.error;
  if (const auto at = error.find(o.call.url); at != std::string::npos && url != o.call.url) {
    error.replace(at, o.call.url.size(), url + "?...");
  }
  if (opts.format == OutputFormat::json) {
    Json doc;
    doc["event"] = "callback";
    doc["webhook_id"] = o.call.webhook_id;
    doc["url"] = url;
    doc["status"] = o.status ? Json(*o.status) : Json();
    doc["ok"] = o.ok();
    doc["error"] = error.empty() ? Json() : Json(error);
    doc["ms"] = o.took.count();
    emit(opts, json_line(doc));
    return;
  }
  const auto outcome = o.status
                           ? "answered " + std::to_string(*o.status) + " in " + std::to_string(o.took.count()) + " ms"
                           : terminal_text(error);
  emit(opts, std::string(o.ok() ? "callback" : "CALLBACK FAILED") + "  " + terminal_text(o.call.webhook_id) +
                 "  POST " + terminal_text(url) + "  " + outcome + "\n");
}

// Whether a refused request already took its place among --max-requests.
enum class Admitted { no, yes };

// What listen does with what the server gives it: every request, answered
// by the handler or refused by the server, is logged, counted toward
// --max-requests, and judged for the exit status.
class Session {
 public:
  Session(const ListenOptions& opts, ReceiverConfig config, Stopper& stopper, ListenInspector* inspector)
      : m_opts(opts), m_config(std::move(config)), m_receiver(m_config), m_stopper(stopper), m_inspector(inspector) {
    open_sink(m_sink, opts);
    if (!opts.forward_to.empty()) {
      http::ForwardOptions forward;
      forward.timeout = opts.forward_timeout;
      forward.ca_cert = opts.keys.epilot.ca_cert;
      m_forwarder = take(http::Forwarder::create(take(http::parse_url(opts.forward_to)), forward));
    }
    // Forwarding, the app answers, and its callback is its own to send.
    if (!opts.no_callback && opts.forward_to.empty()) {
      http::HttpOptions http;
      http.ca_cert = opts.keys.epilot.ca_cert;
      http.timeout = k_callback_timeout;
      m_http = make_http_client(http);
      m_callbacks = std::make_unique<ResumeQueue>(*m_http, 2, k_max_pending_callbacks,
                                                  [this](const ResumeOutcome& o) { print_callback(m_opts, o); });
    }
  }

  void handle(http::wire::Request&& request, const http::Responder& reply);
  void refused(const http::Refusal& refusal, Admitted admitted);

  // Wait for the requests the app still has, and answer them.
  void finish_forwarding() { m_forwarder.reset(); }

  // Send the callbacks still due, each within its timeout.
  void finish_callbacks() {
    if (m_callbacks) {
      m_callbacks->finish(std::chrono::steady_clock::now() + k_callback_timeout);
    }
  }
  std::size_t taken() const { return m_done.load(); }
  std::size_t failed() const { return m_failed.load(); }
  std::size_t unsaved() const { return m_unsaved.load(); }

 private:
  // Exactly --max-requests are taken, however many connections race for them.
  bool admit() { return m_opts.max_requests == 0 || ++m_admitted <= m_opts.max_requests; }
  void done() {
    if (++m_done == m_opts.max_requests) {
      m_stopper.stop("max-requests");
    }
  }
  bool verifying() const { return !m_config.keys.public_keys.empty() || !m_config.keys.secrets.empty(); }
  void call_back(const Received& received);
  bool record(Received& received, std::string_view path, Clock::time_point arrived);
  void inspect(const Received& received, std::string_view path, Clock::time_point arrived);
  bool forwards(const Received& received) const;
  void forward(const http::wire::Request& request, Received received, std::string path, Clock::time_point arrived,
               const http::Responder& reply);

  const ListenOptions& m_opts;
  ReceiverConfig m_config;
  Receiver m_receiver;
  webhook::CaptureSink m_sink;
  Stopper& m_stopper;
  ListenInspector* m_inspector;  // null without --ui
  std::unique_ptr<http::HttpClient> m_http;
  std::unique_ptr<ResumeQueue> m_callbacks;
  std::atomic<std::size_t> m_admitted{0};
  std::atomic<std::size_t> m_done{0};
  std::atomic<std::size_t> m_failed{0};   // did not verify, or were refused
  std::atomic<std::size_t> m_unsaved{0};  // captures that could not be written
  // Last, so that it goes first: its threads call back into the session.
  std::unique_ptr<http::Forwarder> m_forwarder;
};

void Session::handle(http::wire::Request&& request, const http::Responder& reply) {
  const auto arrived = Clock::now();
  if (!admit()) {
    reply({{503, R"({"error":"stopping","message":"listen has taken the requests it was asked for"})"}, {}, true});
    return;
  }
  const auto path = std::string(target_path(request.target));
  if (!m_opts.path.empty() && path != m_opts.path) {
    refused(
        http::Refusal{404, "not found", "listen answers " + m_opts.path + " only", request.method, request.target, {}},
        Admitted::yes);
    reply({{404, "{\"error\":\"not found\",\"path\":" + util::json_quote(m_opts.path) + "}"}});
    return;
  }
  // epilot only ever POSTs; a GET that verifies is still not a webhook.
  if (request.method != k_default_method) {
    refused(
        http::Refusal{
            405, "method not allowed", "an epilot endpoint takes POST only", request.method, request.target, {}},
        Admitted::yes);
    reply({{405, R"({"error":"method not allowed","allow":"POST"})"}, {}, false, std::string(k_default_method)});
    return;
  }
  std::optional<http::wire::Request> original;
  if (m_forwarder) {
    original = request;  // the capture takes this one
  }
  auto received = m_receiver.handle(webhook::capture_from_request(std::move(request)), current_time());
  if (original && forwards(received)) {
    forward(*original, std::move(received), path, arrived, reply);
    return;
  }
  record(received, path, arrived);
  reply(http::ServerResponse{to_http_response(std::move(received.answer)), m_opts.delay, false});
}

// Capture, count, log and call back: what happens to every request that got
// past the server. False when the capture could not be kept; the answer is
// then a 503, as a request that was not kept must never be answered 2xx.
bool Session::record(Received& received, std::string_view path, Clock::time_point arrived) {
  bool kept = true;
  if (m_sink.enabled()) {
    if (const auto stored = m_sink.store(received_record(received), received.result.verification.id); !stored) {
      print_warning(stored.error().message);
      received.answer = {503, "{\"error\":\"capture failed\"}"};
      ++m_unsaved;
      kept = false;
    }
  }
  if (m_inspector != nullptr) {
    inspect(received, path, arrived);
  }
  if (verifying() && !received.result.verification.ok()) {
    ++m_failed;
  }
  print_event(m_opts, received, path);
  call_back(received);
  done();
  return kept;
}

// Show `received` in the web inspector.
void Session::inspect(const Received& received, std::string_view path, Clock::time_point arrived) {
  // The answer goes out after --delay. The time shown is the arrival's: a
  // request the app was slow to answer is logged after later ones.
  const auto taken = Clock::now() - arrived;
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(taken + m_opts.delay);
  const auto arrived_ms = current_time_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(taken).count();
  m_inspector->add(logged_request(received, std::string(path), arrived_ms, latency.count()));
}

// Whether the app gets `received`: never a replay (listen answers 409), and
// a request that does not verify only with --forward-unverified (or
// --accept-unsigned, which answers everything as if it did).
bool Session::forwards(const Received& received) const {
  if (received.duplicate) {
    return false;
  }
  return !verifying() || received.result.verification.ok() || m_config.accept_unsigned || m_opts.forward_unverified;
}

// Send `request` on to the app; the caller gets the app's answer once it
// comes (or 502 / 504), after the capture, with the app's status, is kept.
void Session::forward(const http::wire::Request& request, Received received, std::string path,
                      Clock::time_point arrived, const http::Responder& reply) {
  const bool unverified = verifying() && !received.result.verification.ok();
  // A verified webhook-id is the request's idempotency key: it may reach
  // the app twice (Standard Webhooks' receivers dedupe on it).
  const auto replayable =
      received.result.verification.ok() ? http::Forwarder::Replayable::yes : http::Forwarder::Replayable::no;
  auto state = std::make_shared<Received>(std::move(received));
  const auto done = [this, state, path = std::move(path), arrived, reply, unverified](http::Forwarded&& f) {
    auto answer = http::relayed_answer(f);
    // epilot sends a request the app did not take again: let the retry
    // through. Only a verified one: a forgery (--forward-unverified) the
    // app refuses must not unmark the genuine request of the same id.
    if ((answer.status < 200 || answer.status > 299) && state->result.verification.ok()) {
      m_receiver.forget(state->result.verification.id);
    }
    state->forwarded =
        ForwardNote{f.outcome, f.answer.status,
                    std::chrono::duration_cast<std::chrono::milliseconds>(f.latency).count(), f.error, unverified};
    state->answer = {answer.status, answer.body};
    if (!record(*state, path, arrived)) {
      reply(http::ServerResponse{to_http_response(std::move(state->answer)), {}, false});
      return;
    }
    answer.delay = m_opts.delay;
    reply(std::move(answer));
  };
  m_forwarder->forward(request, done, replayable);
}

void Session::refused(const http::Refusal& refusal, Admitted admitted) {
  if (admitted == Admitted::no && !admit()) {
    return;  // beyond --max-requests: answered, not taken
  }
  ++m_failed;
  print_refusal(m_opts, refusal, refusal_code(refusal));
  if (m_inspector != nullptr) {
    LoggedRequest logged;
    logged.at_ms = current_time_ms();
    logged.method = refusal.method;
    logged.path = refusal.method.empty() ? refusal.line.substr(0, refusal.line.find('?'))
                                         : std::string(target_path(refusal.target));
    logged.verdict = "refused";
    logged.status = refusal.status;
    logged.reasons.emplace_back(refusal_code(refusal), refusal.message);
    m_inspector->add(std::move(logged));
  }
  done();
}

// The wait_for_callback flow's last step, as the action would take it once
// it has answered. Only for a request that verified, was new and was
// answered as a success: a forged request must never make listen send
// anything anywhere, and epilot waits for no callback from an action that
// failed or was skipped.
void Session::call_back(const Received& received) {
  const bool success = received.answer.status >= 200 && received.answer.status < 300;
  if (!m_callbacks || !verifying() || !received.result.verification.ok() || received.duplicate || !success ||
      m_config.shape == AnswerShape::skip) {
    return;
  }
  auto call = resume_call_of(received.request.body);
  if (!call) {
    return;
  }
  call->webhook_id = received.result.verification.id;
  // The answer is written after the handler returns (and after --delay):
  // the margin lets it reach the caller first, as an action's callback
  // comes after its answer.
  call->not_before = std::chrono::steady_clock::now() + m_opts.delay + k_callback_margin;
  if (!m_callbacks->submit(*call)) {
    print_callback(m_opts,
                   ResumeOutcome{std::move(*call),
                                 std::nullopt,
                                 "not sent: " + std::to_string(k_max_pending_callbacks) + " callbacks wait already",
                                 {}});
  }
}

// The hints for a bind failure, in terms of listen's flags.
Error bind_error(Error error, http::HttpServer::BindFailure why, const ListenOptions& opts) {
  switch (why) {
    case http::HttpServer::BindFailure::in_use:
      error.hints.push_back("another program is listening on port " + std::to_string(opts.port) +
                            "; --port 0 picks a free one");
      break;
    case http::HttpServer::BindFailure::not_local:
      error.hints.push_back(opts.host +
                            " is not an address of this machine: --host 127.0.0.1 listens on this "
                            "machine only, --host 0.0.0.0 on every interface");
      break;
    case http::HttpServer::BindFailure::denied:
      error.hints.push_back("ports below 1024 need privileges; pick a higher --port");
      break;
    case http::HttpServer::BindFailure::none:
    case http::HttpServer::BindFailure::other:
      break;
  }
  return error;
}

// Why listen's run counts as a failed check, or "" when it does not.
std::string check_failure(const ListenOptions& opts, const Session& session, const char* why) {
  if (session.failed() > 0) {
    return std::to_string(session.failed()) + " of " + std::to_string(session.taken()) +
           " requests did not verify or were refused";
  }
  if (std::strcmp(why, "duration") == 0 && opts.max_requests > 0 && session.taken() < opts.max_requests) {
    return "--duration came after " + std::to_string(session.taken()) + " of the " + std::to_string(opts.max_requests) +
           " requests of --max-requests";
  }
  return "";
}

void print_ready(const ListenOptions& opts, int port, const ListenInspector* inspector) {
  const auto url = "http://" + http::url_host_port(opts.host, port) + (opts.path.empty() ? "/" : opts.path);
  if (opts.format == OutputFormat::json) {
    Json ready{{"event", "ready"}, {"url", url}};
    if (inspector != nullptr) {
      ready["ui"] = inspector->url();
    }
    std::printf("%s\n", ready.dump().c_str());
  } else {
    std::printf("listening on %s\n", url.c_str());
    if (inspector != nullptr) {
      std::printf("inspector on %s\n", inspector->url().c_str());
    }
    if (!opts.forward_to.empty()) {
      std::printf("forwarding %s requests to %s\n",
                  opts.forward_unverified || opts.accept_unsigned ? "all" : "verified",
                  http::shown_url(opts.forward_to).c_str());
    }
  }
  std::fflush(stdout);
}

// --delay was in milliseconds before durations took units: a bare number
// that now means many seconds is most likely one of those, and is said.
void warn_if_delay_meant_ms(const ListenOptions& opts) {
  if (opts.delay_option == nullptr || opts.delay_option->results().empty() || opts.delay < std::chrono::seconds(10)) {
    return;
  }
  const auto& text = opts.delay_option->results().back();
  if (text.find_first_not_of("0123456789.") == std::string::npos) {
    print_warning("--delay " + text + " is " + text + " seconds (a bare number is seconds); for milliseconds, write " +
                  text + "ms");
  }
}

// A v1a replay re-signed with a key listen does not trust fails here, and
// at an app that trusts the same keys (epilot's): said at the start rather
// than found on the first replay.
void warn_if_resigning_untrusted(const InspectorSettings& settings, const std::string& key_path) {
  const auto& trusted = settings.keys.public_keys;
  if (!settings.private_key || trusted.empty()) {
    return;
  }
  const auto& mine = settings.private_key->public_key.bytes;
  if (std::any_of(trusted.begin(), trusted.end(), [&](const auto& named) { return named.key.bytes == mine; })) {
    return;
  }
  print_warning("the inspector re-signs v1a replays with " + key_path +
                ", whose public key listen does not trust: they will not verify (to trust it too, add its public "
                "key with --public-key)");
}

// The web inspector of --ui: listen's own address for replays (loopback
// when it listens on every address), and what listen verifies and re-signs
// with.
std::unique_ptr<ListenInspector> start_inspector(const ListenOptions& opts, const ReceiverConfig& config, int port) {
  InspectorSettings settings;
  settings.port = *opts.ui_port;
  const auto host = opts.host == "0.0.0.0" ? "127.0.0.1" : opts.host == "::" ? "::1" : opts.host;
  settings.listen_url = "http://" + http::url_host_port(host, port);
  settings.app_url = opts.forward_to;
  // A replay to the app waits as long as listen would; one to listen also
  // waits for its --delay and the app behind it.
  settings.app_timeout = opts.forward_timeout;
  settings.listen_timeout = opts.forward_timeout + opts.delay + std::chrono::seconds(1);
  settings.keys = config.keys;
  settings.tolerance = opts.tolerance;
  if (!opts.private_key.empty()) {
    settings.private_key = load_private_key(opts.private_key);
  } else if (util::file_exists(default_private_key_path())) {
    // Not asked for: a default key that cannot be read costs the replays
    // that re-sign v1a, not the inspector.
    try {
      settings.private_key = load_private_key(default_private_key_path());
    } catch (const Failure& e) {
      print_warning("the inspector re-signs no v1a replay: " + std::string(e.what()));
    }
  }
  warn_if_resigning_untrusted(settings, opts.private_key.empty() ? default_private_key_path() : opts.private_key);
  settings.ca_cert = opts.keys.epilot.ca_cert;
  return ListenInspector::start(settings);
}

// The combinations of flags listen refuses, and the old flags it names.
void check_flags(const ListenOptions& opts) {
  if (opts.old_skip || opts.old_fail) {
    fail(ErrorCode::usage,
         std::string(opts.old_skip ? "--skip" : "--fail") + " is now " +
             (opts.old_skip ? "--skip-reason" : "--fail-reason") + " for listen",
         {"--skip is check's list of cases to leave out: one name, one meaning"});
  }
  if (opts.forward_to.empty() && opts.timeout_option->count() > 0) {
    fail(ErrorCode::usage, "listen's --timeout is how long the app behind --forward-to may take to answer",
         {"to stop listening after a while, use --duration (e.g. --duration 60s)",
          "to limit how long a client may take to send a request, use --read-timeout"});
  }
  if (!opts.forward_to.empty()) {
    if (const auto url = http::parse_url(opts.forward_to); !url) {
      std::vector<std::string> hints;
      if (opts.forward_to.find("://") == std::string::npos) {
        hints.push_back("for an app on this machine, that is --forward-to http://" + opts.forward_to);
      }
      fail(ErrorCode::usage, "--forward-to: " + url.error().message, hints);
    }
  }
  if (opts.ui_port && *opts.ui_port != 0 && *opts.ui_port == opts.port) {
    fail(ErrorCode::usage, "--ui and --port are the same port: the inspector and listen need one each",
         {"give --ui another port, or --ui 0 for a free one"});
  }
  if (opts.forward_to.empty() && opts.forward_unverified) {
    fail(ErrorCode::usage, "--forward-unverified needs --forward-to");
  }
  if (!opts.out.empty() && !opts.out_dir.empty()) {
    fail(ErrorCode::usage, "--out can't be combined with --out-dir");
  }
  // The variable is for every command that signs: only the flag is refused.
  const char* from_environment = std::getenv(k_env_private_key);
  if (!opts.ui_port && !opts.private_key.empty() &&
      (from_environment == nullptr || opts.private_key != from_environment)) {
    fail(ErrorCode::usage, "listen's --private-key is what the web inspector (--ui) re-signs replays with",
         {"to verify with a key, use --public-key"});
  }
}

Outcome run_listen(const ListenOptions& opts) {
  warn_if_delay_meant_ms(opts);
  check_flags(opts);
  http::ServerLimits limits;
  limits.threads = std::max(1u, std::thread::hardware_concurrency());
  limits.max_body = opts.max_body;
  limits.max_connections = opts.max_connections;
  limits.request_timeout = opts.read_timeout;
  if (!opts.forward_to.empty()) {
    // On stop, a request already with the app gets its whole timeout to be answered.
    limits.shutdown_grace = std::max(limits.shutdown_grace, opts.forward_timeout + std::chrono::milliseconds(500));
  }
  http::HttpServer server(limits);
  Stopper stopper(server);
  // A second signal is ignored: the stop under way already ends the
  // requests in flight. Taken before any thread starts, so that every
  // thread leaves them to StopSignals.
  const StopSignals signals([&stopper](int signal) { stopper.stop(signal == SIGINT ? "SIGINT" : "SIGTERM"); },
                            StopSignals::Again::ignore);
  auto bound = server.bind(opts.host, opts.port);
  if (!bound) {
    throw Failure(bind_error(bound.error(), server.bind_failure(), opts));
  }
  auto config = receiver_config(opts);
  const auto inspector = opts.ui_port ? start_inspector(opts, config, *bound) : nullptr;
  Session session(opts, std::move(config), stopper, inspector.get());

  std::thread clock_thread;
  if (opts.duration.count() > 0) {
    clock_thread = std::thread([&] {
      stopper.wait_for(opts.duration);
      stopper.stop("duration");
    });
  }
  // Returns once stopped, after the answers already made are sent. Ready is
  // said once every worker runs.
  server.run_deferred(
      [&](http::wire::Request&& request, const http::Responder& reply) { session.handle(std::move(request), reply); },
      [&](const http::Refusal& refusal) { session.refused(refusal, Admitted::no); },
      [&] { print_ready(opts, *bound, inspector.get()); });
  session.finish_forwarding();
  if (inspector) {
    inspector->stop();
  }
  session.finish_callbacks();

  stopper.stop("done");
  if (clock_thread.joinable()) {
    clock_thread.join();
  }
  const auto failure = check_failure(opts, session, stopper.why());
  if (!opts.quiet && opts.format == OutputFormat::json) {
    // The last line, named as every command's last line is (it was "stopped" before issue 12).
    std::printf("%s\n", Json{{"event", "summary"},
                             {"reason", stopper.why()},
                             {"requests", session.taken()},
                             {"failed", session.failed()}}
                            .dump()
                            .c_str());
  }
  // A failed check is a result, said with the stop, not an error (exit 1, not 2).
  std::fprintf(stderr, "epilot-action: listen stopped (%s)%s\n", stopper.why(),
               failure.empty() ? "" : ("; FAIL: " + failure).c_str());
  if (session.unsaved() > 0) {
    fail(ErrorCode::io, std::to_string(session.unsaved()) + " captures could not be written");
  }
  return failure.empty() ? Outcome::success : Outcome::check_failed;
}

// The verifying proxy's flags. --timeout is a per-request network timeout
// in every command; here it once was the run-time limit (now --duration), so
// without --forward-to it is refused rather than reinterpreted.
void add_forward_flags(CLI::App& cmd, ListenOptions& opts) {
  cmd.add_option("--forward-to", opts.forward_to,
                 "send each verified request on to URL (the app), and answer with the app's answer")
      ->type_name("URL");
  cmd.add_flag("--forward-unverified", opts.forward_unverified,
               "forward requests that do not verify too (marked in the log and capture)");
  opts.timeout_option = add_duration(cmd, "--timeout", opts.forward_timeout,
                                     "how long a request may take, connecting included: one forwarded to the app "
                                     "(504 beyond)",
                                     {std::chrono::milliseconds(1), std::chrono::hours(1)});
}

// The web inspector's flags.
void add_inspector_flags(CLI::App& cmd, ListenOptions& opts) {
  cmd.add_option("--ui", opts.ui_port, "serve the web inspector on 127.0.0.1:PORT (0 picks a free one)")
      ->check(whole_number(0, 65535))
      ->type_name("PORT");
  add_private_key_flag(cmd, opts.private_key,
                       "with --ui: Ed25519 private key file (PEM or whsk_) the inspector re-signs v1a replays with");
}

}  // namespace

Command register_listen(CLI::App& app) {
  auto opts = std::make_shared<ListenOptions>();
  auto* cmd = app.add_subcommand("listen", "A local endpoint that verifies, captures and answers like a custom action");
  cmd->add_option("--host", opts->host, "address to listen on")->type_name("ADDRESS")->capture_default_str();
  cmd->add_option("-p,--port", opts->port, "port (0 picks a free one)")
      ->check(whole_number(0, 65535))
      ->type_name("PORT")
      ->capture_default_str();
  cmd->add_option("--path", opts->path, "answer only this path (default: any)")->type_name("PATH");
  add_verify_key_flags(*cmd, opts->keys);
  add_tolerance_flag(*cmd, opts->tolerance, "allowed clock difference, both ways",
                     {std::chrono::seconds(0), std::chrono::seconds(1'000'000'000)});
  cmd->add_flag("--accept-unsigned", opts->accept_unsigned, "answer every request as configured; only record verdicts");
  cmd->add_flag("--allow-duplicates", opts->allow_duplicates, "do not answer a repeated webhook-id with 409");
  cmd->add_option("--respond", opts->respond,
                  "status of the answer to a verified request (default 200, or 422 with --fail-reason)")
      ->check(whole_number(200, 599))
      ->type_name("STATUS");
  cmd->add_option("--respond-body", opts->respond_body, "answer with the contents of FILE")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  cmd->add_option("--skip-reason", opts->skip, "answer {\"skip_reason\": REASON}: the action is marked skipped")
      ->type_name("REASON");
  cmd->add_option("--fail-reason", opts->fail_reason,
                  "answer 422 with error_output.error_reason REASON: the action fails")
      ->type_name("REASON");
  opts->delay_option = add_duration(*cmd, "--delay", opts->delay, "wait this long before answering",
                                    {std::chrono::milliseconds(0), std::chrono::minutes(10)});
  cmd->add_option("-o,--out", opts->out, "append every request to FILE as JSON Lines, synced before answering")
      ->type_name("FILE");
  cmd->add_option("--out-dir", opts->out_dir, "write every request to its own file in DIR")->type_name("DIR");
  add_format_flag(*cmd, opts->format, "text or json (a ready event, then one JSON line per request)");
  cmd->add_option("--max-requests", opts->max_requests, "exit after N requests (0: no limit)")
      ->check(whole_number(0, 1'000'000'000'000));
  add_duration(*cmd, "--duration", opts->duration,
               "exit after this long (0: no limit; CI: with --max-requests, a deadline)",
               {std::chrono::milliseconds(0), std::chrono::hours(24 * 365 * 3)});
  // --skip and --fail were the answer's reasons: --skip is check's list of cases.
  cmd->add_option("--skip", opts->old_skip)->group("");
  cmd->add_option("--fail", opts->old_fail)->group("");
  cmd->add_option("--max-body", opts->max_body, "largest body accepted, bytes (413 beyond)")
      ->check(whole_number(0, std::int64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--max-connections", opts->max_connections, "connections open at once; more wait their turn")
      ->check(whole_number(1, 100000))
      ->capture_default_str();
  add_duration(*cmd, "--read-timeout", opts->read_timeout,
               "how long a client has to send one whole request, from its first byte (408 beyond)",
               {std::chrono::milliseconds(10), std::chrono::hours(1)});
  add_forward_flags(*cmd, *opts);
  add_inspector_flags(*cmd, *opts);
  cmd->add_flag("-q,--quiet", opts->quiet, "print only the ready line");
  cmd->add_flag("--no-callback", opts->no_callback,
                "do not POST the resume_token of a verified wait_for_callback request to its callback_post_url");
  cmd->footer(R"(Answers: a verified request gets 200 {} (or --skip-reason, --fail-reason, --respond,
--respond-body); one that does not verify gets 401 with the reasons as JSON; a
verified webhook-id seen within twice the tolerance gets 409. Requests are
captured (with verdict and answer) before the answer is sent. Every request
gets a line, refused ones (404, 400, 413, ...) included, and counts toward
--max-requests.

wait_for_callback: after answering a verified request whose data carries
resume_token and callback_post_url with success, listen POSTs
{"resume_token": ...} to that URL, as the real action would (not for forged,
duplicate, skipped or failed ones; redirects are not followed; --no-callback
turns it off).

Exit status: 1 when a request did not verify or was refused, or when
--duration came before --max-requests requests; 0 otherwise, SIGINT and
SIGTERM included (they stop it cleanly after the requests in flight).

Examples:
  $ epilot-action listen --port 3000 --epilot-key --out requests.jsonl
  $ epilot-action listen --port 0 --public-key test.pub.pem --format json --max-requests 10
  $ epilot-action listen --secret-file webhook.secret --fail-reason "credit check failed"
  $ epilot-action listen --max-requests 1 --duration 60s   # CI: exit 0 only if one request came and verified)");
  return Command{cmd, [opts] { return run_listen(*opts); }};
}

}  // namespace epilot::cli
