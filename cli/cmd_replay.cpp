// `epilot-action replay`: send fixtures and captures to an endpoint, signed
// afresh at the moment they are sent, and judge the answers as epilot would.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/callback_endpoint.hpp"
#include "cli/commands.hpp"
#include "cli/environment.hpp"
#include "cli/flag_values.hpp"
#include "cli/flags.hpp"
#include "cli/fixture_context.hpp"
#include "cli/input_output.hpp"
#include "cli/keysource.hpp"
#include "cli/replay_sources.hpp"
#include "cli/replay_report.hpp"
#include "cli/unreachable.hpp"
#include "lib/epilot/resume_endpoint.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"
#include "lib/http/client.hpp"
#include "lib/webhook/jwt.hpp"
#include "lib/http/load_client.hpp"
#include "lib/epilot/replay_verdicts.hpp"
#include "lib/epilot/replay_plan.hpp"
#include "lib/http/server.hpp"
#include "lib/util/timefmt.hpp"

namespace epilot::cli {

namespace {

// Runs up to this many requests print a line each by default.
constexpr std::uint64_t k_small_run = 20;
// Runs of up to this many requests report in input order (the lines held
// back meanwhile are bounded by it).
constexpr std::uint64_t k_max_ordered_run = 100000;
// The progress bar appears only for runs that last longer than this.
constexpr auto k_progress_delay = std::chrono::milliseconds(500);

struct ReplayOptions {
  std::vector<std::string> inputs;
  std::string url;
  std::string private_key;
  SecretFlags secrets;
  bool as_is = false;
  bool keep_id = false;
  unsigned concurrency = 1;
  unsigned threads = 0;
  double rate = 0;
  std::uint64_t repeat = 1;
  double duration = 0;
  double timeout = 10;
  unsigned retries = 2;
  std::vector<std::string> headers;
  std::vector<std::string> sets;
  std::vector<std::string> options;
  std::string fixtures_dir;
  std::vector<std::string> expects;
  std::string expect_repeat;
  std::string token;
  std::string token_file;
  bool mock_token = false;
  double callback_timeout = 10;
  std::string format = "text";
  std::string junit;
  std::string ca_cert;
  bool verbose = false;
  bool quiet = false;
  bool no_progress = false;
};

// A captured x-epilot-token expires 10 minutes after epilot issued it; say
// so once instead of letting the endpoint's 401s puzzle the user.
void warn_expired_tokens(const std::vector<ReplayItem>& items, TokenMode mode) {
  if (mode != TokenMode::keep) {
    return;
  }
  const auto now = current_time_ms() / 1000;
  for (const auto& item : items) {
    const auto* token = item.capture.find_header(k_header_epilot_token);
    if (token == nullptr) {
      continue;
    }
    auto jwt = decode_jwt(*token);
    if (jwt.ok() && jwt->claims.contains("exp") && jwt->claims["exp"].is_number() &&
        jwt->claims["exp"].get<std::int64_t>() < now) {
      print_warning(item.name + ": its x-epilot-token expired " +
                    describe_duration(now - jwt->claims["exp"].get<std::int64_t>()) + " ago; it is sent as captured");
      print_hint("send a stand-in with --mock-token, or a live one with --token-file FILE");
      return;
    }
  }
}

bool input_matches(const ReplayItem& item, const std::string& name) {
  if (item.name == name || item.source == name) {
    return true;
  }
  const auto slash = item.source.find_last_of('/');
  return slash != std::string::npos && item.source.substr(slash + 1) == name;
}

// The expectation each item is held to: its own --expect INPUT=SPEC, else
// the general --expect, else 2xx.
std::vector<Expectation> resolve_expectations(const std::vector<std::string>& texts,
                                              const std::vector<ReplayItem>& items,
                                              std::vector<const Expectation*>& per_item) {
  std::vector<ExpectRule> rules;
  for (const auto& text : texts) {
    auto rule = parse_expect_rule(text);
    if (!rule.ok()) {
      fail(rule.error().code, "--expect " + rule.error().message, rule.error().hints);
    }
    rules.push_back(std::move(rule).value());
  }
  std::vector<Expectation> store;
  store.reserve(rules.size() + 1);
  store.push_back(default_expectation());
  for (auto& rule : rules) {
    if (rule.input.empty()) {
      store.front() = rule.expectation;  // the last general one wins
    }
  }
  for (const auto& rule : rules) {
    if (rule.input.empty()) {
      continue;
    }
    const bool known = std::any_of(items.begin(), items.end(), [&](const ReplayItem& i) { return input_matches(i, rule.input); });
    if (!known) {
      fail(ErrorCode::usage, "--expect names '" + rule.input + "', which is not one of the inputs",
           {"name an input as given on the command line, its file name, or a fixture's name"});
    }
    store.push_back(rule.expectation);
  }
  per_item.assign(items.size(), &store.front());
  std::size_t next = 1;
  for (const auto& rule : rules) {
    if (rule.input.empty()) {
      continue;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (input_matches(items[i], rule.input)) {
        per_item[i] = &store[next];
      }
    }
    ++next;
  }
  return store;
}

// --expect-repeat: the expectation for sends of a webhook-id sent before.
// Given where no id can repeat, it could never fail: that is a usage error.
std::optional<Expectation> repeat_rule(const ReplayOptions& opts, const RequestRenderer& renderer,
                                       std::uint64_t total) {
  if (opts.expect_repeat.empty()) {
    return std::nullopt;
  }
  auto expectation = parse_expectation(opts.expect_repeat);
  if (!expectation.ok()) {
    fail(ErrorCode::usage, "--expect-repeat " + expectation.error().message, expectation.error().hints);
  }
  bool any = false;
  const auto jobs = total == 0 ? 2 * renderer.items().size() : total;  // --duration: a second round comes in time
  for (std::uint64_t job = 0; job < jobs && !any; ++job) {
    any = renderer.is_repeat(job);
  }
  if (!any) {
    fail(ErrorCode::usage, "--expect-repeat judges requests that repeat a webhook-id, and none of these does",
         {"send each input twice with the same id: --keep-id -n 2"});
  }
  return std::move(expectation).value();
}

// Captures are signed afresh unless --as-is: a stale or forged capture
// becomes a genuine request, which a correct endpoint accepts.
void hint_as_is(const std::vector<ReplayItem>& items, SendMode mode, const std::vector<const Expectation*>& expectations) {
  const bool all_captures =
      std::all_of(items.begin(), items.end(), [](const ReplayItem& i) { return i.fixture == nullptr; });
  // An expectation no 2xx can meet asks for a refusal.
  const auto accepts_success = [](const Expectation::Matcher& m) {
    return m.status_class == 2 || (m.status >= 200 && m.status < 300) || m.answer_class == AnswerClass::success ||
           m.answer_class == AnswerClass::skipped;
  };
  const bool wants_refusal = std::all_of(expectations.begin(), expectations.end(), [&](const Expectation* e) {
    return std::none_of(e->any_of.begin(), e->any_of.end(), accepts_success);
  });
  if (mode == SendMode::resign && all_captures && wants_refusal) {
    print_warning("--expect wants the captures refused, but replay signs each one afresh, so a correct endpoint "
                  "accepts them");
    print_hint("to send them as captured (their own signatures and timestamps), add --as-is");
  }
}

std::atomic<bool> g_stop{false};
// The first SIGINT or SIGTERM asks for a stop; any second one, of either
// kind, ends the process at once (sigaction is async-signal-safe).
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(SIGINT, &fallback, nullptr);
  sigaction(SIGTERM, &fallback, nullptr);
}

// A one-line bar on stderr, redrawn ten times a second, through the
// reporter so that it never mixes with the lines on stdout.
class ProgressBar {
 public:
  ProgressBar(ReplayReporter& reporter, const LoadProgress& progress, std::uint64_t total, double duration_s)
      : m_reporter(reporter), m_progress(progress), m_total(total), m_duration(duration_s) {
    m_thread = std::thread([this] { loop(); });
  }
  ~ProgressBar() {
    m_done.store(true);
    m_thread.join();
    m_reporter.clear_progress();
  }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

 private:
  void loop() {
    const auto start = std::chrono::steady_clock::now();
    while (!m_done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (elapsed * 1000 < static_cast<double>(k_progress_delay.count()) || m_done.load()) {
        continue;
      }
      const auto done = m_progress.delivered.load();
      const double fraction = m_total > 0 ? static_cast<double>(done) / static_cast<double>(m_total)
                                          : (m_duration > 0 ? std::min(1.0, elapsed / m_duration) : 0);
      constexpr int k_width = 30;
      const int filled = static_cast<int>(fraction * k_width);
      std::string bar = "[" + std::string(static_cast<std::size_t>(filled), '#') +
                        std::string(static_cast<std::size_t>(k_width - filled), '-') + "] ";
      char text[160];
      if (m_total > 0) {
        std::snprintf(text, sizeof text, "%llu/%llu %3.0f%%  %.0f/s", static_cast<unsigned long long>(done),
                      static_cast<unsigned long long>(m_total), fraction * 100, static_cast<double>(done) / elapsed);
      } else {
        std::snprintf(text, sizeof text, "%.0f/%.0f s  %llu sent  %.0f/s", elapsed, m_duration,
                      static_cast<unsigned long long>(done), static_cast<double>(done) / elapsed);
      }
      m_reporter.draw_progress(bar + text);
    }
  }

  ReplayReporter& m_reporter;
  const LoadProgress& m_progress;
  std::uint64_t m_total;
  double m_duration;
  std::atomic<bool> m_done{false};
  std::thread m_thread;
};

// Flags that contradict each other or make no sense.
void check_flags(const ReplayOptions& opts) {
  if (opts.duration > 0 && opts.repeat != 1) {
    fail(ErrorCode::usage, "--duration and --repeat can't be combined",
         {"--duration cycles through the inputs until the time is up"});
  }
  if (opts.as_is && (!opts.private_key.empty() || !opts.secrets.secrets.empty() || !opts.secrets.secret_files.empty() ||
                     opts.keep_id || !opts.sets.empty() || opts.mock_token || !opts.token.empty() ||
                     !opts.token_file.empty())) {
    fail(ErrorCode::usage, "--as-is sends captures untouched: it can't be combined with keys, --keep-id, --set or tokens");
  }
  if (opts.mock_token && (!opts.token.empty() || !opts.token_file.empty())) {
    fail(ErrorCode::usage, "--mock-token and --token/--token-file can't be combined");
  }
}

// How every request is made: where it goes, what it carries, how it is signed.
ReplayRequestOptions request_options(const ReplayOptions& opts, const ParsedUrl& url, SendMode mode) {
  ReplayRequestOptions request;
  request.host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != (url.scheme == "https" ? 443 : 80)) {
    request.host += ":" + std::to_string(url.port);
  }
  request.target = url.target;
  request.mode = mode;
  request.keep_id = opts.keep_id;
  request.user_agent = "epilot-action/" EPILOT_VERSION;
  for (const auto& text : opts.headers) {
    auto header = parse_header_flag(text);
    if (mode == SendMode::resign && (iequals_ascii(header.name, k_header_id) ||
                                     iequals_ascii(header.name, k_header_timestamp) ||
                                     iequals_ascii(header.name, k_header_signature))) {
      fail(ErrorCode::usage, "-H can't set " + to_lower_ascii(header.name) + ": replay signs every request itself",
           {"to send captured signatures untouched, use --as-is"});
    }
    request.headers.push_back(std::move(header));
  }
  for (const auto& text : opts.sets) {
    request.sets.push_back(take(parse_assignment(text, "--set")));
  }
  if (mode == SendMode::resign) {
    auto keys = load_signing_keys(opts.private_key, opts.secrets);
    request.private_key = keys.private_key;
    for (auto& s : keys.secrets) {
      request.secrets.push_back(std::move(s.secret));
    }
    if (opts.mock_token) {
      request.token_mode = TokenMode::mock;
      request.token_key = generate_private_key(system_random());
    } else if (auto token = load_token(opts.token, opts.token_file); !token.empty()) {
      request.token_mode = TokenMode::given;
      request.token = std::move(token);
    }
  }
  return request;
}

// How the load client runs: connections, threads, pace and limits.
LoadPlan load_plan(const ReplayOptions& opts, const ParsedUrl& url, std::size_t inputs) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  LoadPlan plan;
  plan.host = url.host;
  plan.port = url.port;
  plan.tls = url.scheme == "https";
  plan.ca_cert = opts.ca_cert;
  plan.connections = opts.concurrency;
  plan.threads = std::min(opts.threads == 0 ? cores : opts.threads, opts.concurrency);
  plan.rate = opts.rate;
  plan.duration = std::chrono::milliseconds(std::llround(opts.duration * 1000));
  plan.total = opts.duration > 0 ? 0 : static_cast<std::uint64_t>(inputs) * opts.repeat;
  plan.timeout = std::chrono::milliseconds(std::llround(opts.timeout * 1000));
  plan.retries = opts.retries;
  return plan;
}

Outcome run_replay(const ReplayOptions& opts) {
  // --- What to send, where, and how ---
  if (opts.url.empty()) {
    fail(ErrorCode::usage, "name the endpoint with --url", {"for example: --url http://127.0.0.1:3000/hook"});
  }
  const auto url = take(parse_url(opts.url));

  check_flags(opts);
  const auto mode = opts.as_is ? SendMode::as_is : SendMode::resign;

  auto items = load_replay_inputs(opts.inputs, fixture_catalog(opts.fixtures_dir));
  std::vector<const Expectation*> expectation_of;
  const auto expectations = resolve_expectations(opts.expects, items, expectation_of);

  auto request = request_options(opts, url, mode);
  warn_expired_tokens(items, request.token_mode);

  // --- The callback endpoint, when some request waits for one ---
  const bool any_callback = mode == SendMode::resign && std::any_of(items.begin(), items.end(), [&](const ReplayItem& i) {
    return waits_for_callback(i.fixture != nullptr ? std::string(i.fixture->text) : i.capture.body);
  });
  CallbackEndpoint callbacks;
  if (any_callback) {
    request.callback_url = callbacks.start();
  }
  auto& board = callbacks.board;

  const auto plan = load_plan(opts, url, items.size());

  SendContext context;
  context.now_ms = current_time_ms;
  context.fill = fill_context(opts.options);
  auto renderer = take(RequestRenderer::create(std::move(items), request, std::move(context), plan.threads));
  renderer->on_callback = [&](const CallbackRequest& c) { board.issued(c.job, c.resume_token); };
  const auto repeat_expectation = repeat_rule(opts, *renderer, plan.total);
  hint_as_is(renderer->items(), mode, expectation_of);
  const auto& sent_items = renderer->items();
  std::vector<std::string> names;
  std::size_t name_width = 0;
  for (const auto& item : sent_items) {
    names.push_back(item.name);
    name_width = std::max(name_width, std::min<std::size_t>(item.name.size(), 40));
  }

  // --- Run ---
  const bool every_line = opts.verbose || (plan.total != 0 && plan.total <= k_small_run);
  // In input order when the run's length is known and bounded: a line may
  // wait for a callback to be judged at the run's end.
  const bool in_order = plan.total != 0 && plan.total <= k_max_ordered_run;
  ReplayReporter reporter(opts.format == "json" ? ReplayReporter::Format::json : ReplayReporter::Format::text,
                          every_line, opts.quiet, name_width, in_order);
  std::vector<Tally> tallies(plan.threads);
  std::mutex pending_mutex;
  std::vector<ReplayRecord> pending;  // successful callback requests, judged once their callback is in
  std::optional<Delivered> unreachable;  // the first request that could not be delivered
  std::mutex unreachable_mutex;

  const auto judge = [&](ReplayRecord& r) {
    r.met = expectation_met(*r.expectation, r.delivered, r.classified.answer_class);
    if (!r.met) {
      r.why_unmet = "expected " + r.expectation->text + (r.repeat && repeat_expectation ? " for a repeated webhook-id" : "") +
                    ", got " +
                    (r.delivered.delivery == Delivery::answered ? std::to_string(r.delivered.answer.status) + " " : "") +
                    std::string(describe(r.classified.answer_class)) +
                    (r.classified.reason.empty() ? "" : ": " + r.classified.reason);
    }
    if (r.met && r.callback && r.callback->state == CallbackOutcome::State::timed_out) {
      r.met = false;
      r.why_unmet = "no callback with its resume_token within " + format_latency(std::chrono::milliseconds(
                                                                    std::llround(opts.callback_timeout * 1000)));
    }
  };

  const auto on_delivered = [&](unsigned thread, Delivered& delivered) {
    ReplayRecord r;
    r.job = delivered.job;
    r.item = renderer->item_of(delivered.job);
    r.input = &names[r.item];
    r.classified = classify(delivered);
    r.repeat = renderer->is_repeat(r.job);
    r.expectation = r.repeat && repeat_expectation ? &*repeat_expectation : expectation_of[r.item];
    r.delivered = std::move(delivered);
    if (r.classified.answer_class == AnswerClass::unreachable) {
      std::lock_guard lock(unreachable_mutex);
      if (!unreachable) {
        unreachable = r.delivered;
      }
    }
    if (renderer->is_callback(r.item)) {
      const bool awaited = r.classified.answer_class == AnswerClass::success;
      board.answered(r.job, awaited);
      if (awaited) {
        r.delivered.answer.body.clear();
        std::lock_guard lock(pending_mutex);
        pending.push_back(std::move(r));
        return;
      }
      r.callback = CallbackOutcome{CallbackOutcome::State::not_awaited, {}};
    }
    judge(r);
    tallies[thread].add(r);
    reporter.record(r);
  };

  g_stop.store(false);
  struct sigaction action{};
  action.sa_handler = on_stop_signal;
  action.sa_flags = 0;  // the handler itself makes a second signal end the process
  sigemptyset(&action.sa_mask);
  struct sigaction old_int{};
  struct sigaction old_term{};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);

  const auto started = std::chrono::steady_clock::now();
  LoadProgress progress;
  Result<LoadStats> stats = LoadStats{};
  {
    const bool show_progress = !opts.no_progress && !opts.quiet && ::isatty(STDERR_FILENO) == 1;
    std::unique_ptr<ProgressBar> bar;
    if (show_progress) {
      bar = std::make_unique<ProgressBar>(reporter, progress, plan.total, opts.duration);
    }
    stats = run_load(plan, [&](unsigned t, std::uint64_t job, OutgoingRequest& out) { renderer->render(t, job, out); },
                     on_delivered, &progress, &g_stop);
  }
  if (!stats.ok()) {
    throw Failure(stats.error());
  }

  // --- Callbacks still on their way ---
  RunFacts facts;
  if (!pending.empty()) {
    board.wait(std::chrono::milliseconds(std::llround(opts.callback_timeout * 1000)), &g_stop);
    std::sort(pending.begin(), pending.end(), [](const ReplayRecord& a, const ReplayRecord& b) { return a.job < b.job; });
    for (auto& r : pending) {
      r.callback = board.outcome(r.job);
      facts.callbacks_timed_out += r.callback && r.callback->state == CallbackOutcome::State::timed_out ? 1 : 0;
      judge(r);
      tallies[0].add(r);
      reporter.record(r);
    }
  }
  reporter.finish();
  const auto elapsed = std::chrono::steady_clock::now() - started;  // callback waits included
  callbacks.stop();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);

  Tally total;
  total.items.resize(sent_items.size());
  for (const auto& t : tallies) {
    total.merge(t);
  }
  facts.url = opts.url;
  facts.connections = opts.concurrency;
  facts.seconds = std::chrono::duration<double>(elapsed).count();
  facts.callbacks_received = board.received_count();
  facts.callback_problems = board.problems();
  facts.stopped = g_stop.load();
  reporter.summary(total, facts);
  if (!opts.junit.empty()) {
    write_output(opts.junit, reporter.junit(names, expectation_of, total, facts));
  }

  if (unreachable) {
    fail_unreachable(shown_url(opts.url), *unreachable);
  }
  return total.unmet == 0 && facts.callback_problems.empty() && !facts.stopped ? Outcome::success
                                                                               : Outcome::check_failed;
}

}  // namespace

Command register_replay(CLI::App& app) {
  auto opts = std::make_shared<ReplayOptions>();
  auto* cmd = app.add_subcommand("replay", "Send fixtures and captures to an endpoint, signed afresh, and judge the answers");
  cmd->add_option("inputs", opts->inputs,
                  "fixture names (or fixture:NAME|PATH), capture or payload files, directories, globs, or - "
                  "(default: the built-in custom-action fixture)");
  add_url_flag(*cmd, opts->url, "the endpoint, http(s)://HOST:PORT/PATH (required)");
  add_ca_cert_flag(*cmd, opts->ca_cert, "for https: trust this CA certificate (PEM) too, as for a local dev server");
  add_private_key_flag(*cmd, opts->private_key, "Ed25519 private key file (PEM or whsk_): signs v1a");
  add_secret_flags(*cmd, opts->secrets);
  cmd->add_flag("--as-is", opts->as_is, "send captures exactly as captured: their headers, signatures and bytes");
  cmd->add_flag("--keep-id", opts->keep_id, "send each request's webhook-id on every repeat (to test idempotency)");
  cmd->add_option("-c,--concurrency", opts->concurrency, "connections in parallel")
      ->check(whole_number(1, 100'000))
      ->capture_default_str();
  cmd->add_option("--threads", opts->threads, "worker threads (default: one per core, at most --concurrency)")
      ->check(whole_number(0, 1024));
  cmd->add_option("--rate", opts->rate, "requests per second, all connections together (default: as fast as answered)")
      ->check(decimal_number(0, 10'000'000));
  cmd->add_option("-n,--repeat", opts->repeat, "send every input this many times")
      ->check(whole_number(1, 1'000'000'000'000))
      ->capture_default_str();
  add_duration(*cmd, "-d,--duration", opts->duration, "keep sending, cycling through the inputs, for this long",
               {std::chrono::milliseconds(0), std::chrono::hours(24 * 365)});
  add_timeout_flag(*cmd, opts->timeout);
  cmd->add_option("--retries", opts->retries, "extra attempts after a connection error (not after a timeout or an answer)")
      ->check(whole_number(0, 100))
      ->capture_default_str();
  add_header_flag(*cmd, opts->headers, "add a header 'name: value' to every request, repeatable");
  cmd->add_option("--set", opts->sets, "set a field of every JSON body: PATH=STRING or PATH:=JSON, repeatable")
      ->allow_extra_args(false)
      ->type_name("PATH=VALUE");
  cmd->add_option("--option", opts->options, "a value for fixtures' {{option.NAME}} placeholders, NAME=VALUE, repeatable")
      ->allow_extra_args(false)
      ->type_name("NAME=VALUE");
  add_fixtures_flag(*cmd, opts->fixtures_dir);
  cmd->add_option("--expect", opts->expects,
                  "what answers must be: statuses (200), classes (2xx), or success, skipped, failed, other, timeout; "
                  "comma-separated; INPUT=SPEC for one input; repeatable (default: 2xx)")
      ->allow_extra_args(false)
      ->type_name("SPEC");
  cmd->add_option("--expect-repeat", opts->expect_repeat,
                  "what answers to a repeated webhook-id must be (with --keep-id -n 2, or --as-is), as for --expect: "
                  "a deduplicating endpoint answers skipped or 409")
      ->type_name("SPEC");
  cmd->add_option("--token", opts->token,
                  "send this JWT as x-epilot-token (visible to ps: prefer --token-file)" + env_note(k_env_token))
      ->type_name("JWT");
  add_token_file_flag(*cmd, opts->token_file, "read the x-epilot-token JWT from FILE");
  cmd->add_flag("--mock-token", opts->mock_token,
                "send a made-up x-epilot-token with epilot's claims, signed by a throwaway key (not epilot's)");
  add_duration(*cmd, "--callback-timeout", opts->callback_timeout,
               "how long to wait for a wait_for_callback request's resume_token POST",
               {std::chrono::milliseconds(1), std::chrono::hours(24)});
  add_format_flag(*cmd, opts->format, {"text", "json"}, "text, or json (a JSON line per request, then a summary)");
  add_junit_flag(*cmd, opts->junit, "also write a JUnit XML report to FILE (one test case per input)");
  cmd->add_flag("-v,--verbose", opts->verbose, "a line for every request, however many");
  cmd->add_flag("-q,--quiet", opts->quiet, "only the summary");
  cmd->add_flag("--no-progress", opts->no_progress, "no progress bar, even on a terminal");
  cmd->footer(R"(A file means what it holds: captures (JSON, JSON Lines, HAR, raw HTTP) are
replayed; any other file is a payload, sent byte for byte as the body (its
{{...}} placeholders filled, if any); NAME.request.json adds headers.

Every request is signed again as it is sent: a fresh webhook-id and timestamp,
v1a with --private-key, v1 with each secret (with no key named: the default
local keypair and EPILOT_ACTION_SECRET). --as-is sends captures untouched,
to prove that stale or replayed requests are refused.

Answers are read the way epilot reads them: 2xx is success, 2xx with
{"skip_reason"} is skipped, 4xx/5xx with {"error_output": {"error_reason"}} is
failed, anything else is other. For a wait_for_callback request, replay points
data.callback_post_url at a local endpoint of its own and waits for the
resume_token to be POSTed back.

Exit status: 0 when every answer met its expectation, 1 when one did not,
2 for bad input, 3 when the endpoint could not be reached.

Examples:
  $ epilot-action replay --url http://127.0.0.1:3000/hook
  $ epilot-action replay opportunity-created contact-updated --url http://127.0.0.1:3000/hook --mock-token
  $ epilot-action replay captures/ --url http://127.0.0.1:3000/hook --junit replay.xml
  $ epilot-action replay mypayload.json --url http://127.0.0.1:3000/hook
  $ epilot-action replay stale.json --as-is --url http://127.0.0.1:3000/hook --expect 401
  $ epilot-action replay --keep-id -n 2 --expect-repeat skipped,409 --url http://127.0.0.1:3000/hook
  $ epilot-action replay -c 16 -d 30 --url http://127.0.0.1:3000/hook --secret-file webhook.secret -q)");
  return Command{cmd, [opts] { return run_replay(*opts); }};
}

}  // namespace epilot::cli
