// `epilot-action replay`: send fixtures and captures to an endpoint, signed
// afresh at the moment they are sent, and judge the answers as epilot would.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/callback_endpoint.hpp"
#include "cli/commands.hpp"
#include "cli/environment.hpp"
#include "cli/fixture_context.hpp"
#include "cli/flag_values.hpp"
#include "cli/flags.hpp"
#include "cli/input_output.hpp"
#include "cli/keysource.hpp"
#include "cli/replay_report.hpp"
#include "cli/replay_sources.hpp"
#include "cli/signals.hpp"
#include "cli/unreachable.hpp"
#include "cli/wall_clock.hpp"
#include "lib/epilot/replay_plan.hpp"
#include "lib/epilot/replay_verdicts.hpp"
#include "lib/epilot/resume_endpoint.hpp"
#include "lib/http/client.hpp"
#include "lib/http/load_client.hpp"
#include "lib/http/server.hpp"
#include "lib/http/url.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"
#include "lib/util/timefmt.hpp"
#include "lib/webhook/jwt.hpp"

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
  OutputFormat format = OutputFormat::text;
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
    auto jwt = webhook::decode_jwt(*token);
    if (jwt.ok() && jwt->claims.contains("exp") && jwt->claims["exp"].is_number() &&
        jwt->claims["exp"].get<std::int64_t>() < now) {
      print_warning(item.name + ": its x-epilot-token expired " +
                    util::describe_duration(now - jwt->claims["exp"].get<std::int64_t>()) +
                    " ago; it is sent as captured");
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
    const bool known =
        std::any_of(items.begin(), items.end(), [&](const ReplayItem& i) { return input_matches(i, rule.input); });
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
void hint_as_is(const std::vector<ReplayItem>& items, SendMode mode,
                const std::vector<const Expectation*>& expectations) {
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
    print_warning(
        "--expect wants the captures refused, but replay signs each one afresh, so a correct endpoint "
        "accepts them");
    print_hint("to send them as captured (their own signatures and timestamps), add --as-is");
  }
}

// A one-line bar on stderr, redrawn ten times a second, through the
// reporter so that it never mixes with the lines on stdout.
class ProgressBar {
 public:
  ProgressBar(ReplayReporter& reporter, const http::LoadProgress& progress, std::uint64_t total, double duration_s)
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
  const http::LoadProgress& m_progress;
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
  if (opts.as_is &&
      (!opts.private_key.empty() || !opts.secrets.secrets.empty() || !opts.secrets.secret_files.empty() ||
       opts.keep_id || !opts.sets.empty() || opts.mock_token || !opts.token.empty() || !opts.token_file.empty())) {
    fail(ErrorCode::usage,
         "--as-is sends captures untouched: it can't be combined with keys, --keep-id, --set or tokens");
  }
  if (opts.mock_token && (!opts.token.empty() || !opts.token_file.empty())) {
    fail(ErrorCode::usage, "--mock-token and --token/--token-file can't be combined");
  }
}

// How every request is made: where it goes, what it carries, how it is signed.
ReplayRequestOptions request_options(const ReplayOptions& opts, const http::ParsedUrl& url, SendMode mode) {
  ReplayRequestOptions request;
  request.host = host_header(url);
  request.target = url.target;
  request.mode = mode;
  request.keep_id = opts.keep_id;
  request.user_agent = "epilot-action/" EPILOT_VERSION;
  for (const auto& text : opts.headers) {
    auto header = parse_header_flag(text);
    if (mode == SendMode::resign &&
        (util::iequals_ascii(header.name, k_header_id) || util::iequals_ascii(header.name, k_header_timestamp) ||
         util::iequals_ascii(header.name, k_header_signature))) {
      fail(ErrorCode::usage,
           "-H can't set " + util::to_lower_ascii(header.name) + ": replay signs every request itself",
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
      request.token_key = webhook::generate_private_key(util::system_random());
    } else if (auto token = load_token(opts.token, opts.token_file); !token.empty()) {
      request.token_mode = TokenMode::given;
      request.token = std::move(token);
    }
  }
  return request;
}

// How the load client runs: connections, threads, pace and limits.
http::LoadPlan load_plan(const ReplayOptions& opts, const http::ParsedUrl& url, std::size_t inputs) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  http::LoadPlan plan;
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

// What a run sends, where, and what each input must be answered with: all
// settled before the first request goes out.
struct PreparedRun {
  http::ParsedUrl url;
  SendMode mode = SendMode::resign;
  std::vector<ReplayItem> items;                   // until the renderer takes them
  std::vector<Expectation> expectations;           // what expectation_of points into
  std::vector<const Expectation*> expectation_of;  // one per item
  ReplayRequestOptions request;
};

// The endpoint, the inputs, their expectations and how they are signed.
PreparedRun read_inputs(const ReplayOptions& opts) {
  if (opts.url.empty()) {
    fail(ErrorCode::usage, "name the endpoint with --url", {"for example: --url http://127.0.0.1:3000/hook"});
  }
  PreparedRun run;
  run.url = take(http::parse_url(opts.url));

  check_flags(opts);
  run.mode = opts.as_is ? SendMode::as_is : SendMode::resign;

  run.items = load_replay_inputs(opts.inputs, fixture_catalog(opts.fixtures_dir));
  run.expectations = resolve_expectations(opts.expects, run.items, run.expectation_of);

  run.request = request_options(opts, run.url, run.mode);
  warn_expired_tokens(run.items, run.request.token_mode);
  return run;
}

// The local callback endpoint is started only when some request waits for
// one; the requests then point their callback_post_url at it.
void start_callbacks(PreparedRun& run, CallbackEndpoint& callbacks) {
  const bool any_callback =
      run.mode == SendMode::resign && std::any_of(run.items.begin(), run.items.end(), [&](const ReplayItem& i) {
        return waits_for_callback(i.fixture != nullptr ? std::string(i.fixture->text) : i.capture.body);
      });
  if (any_callback) {
    run.request.callback_url = callbacks.start();
  }
}

// What makes every request; it tells the board of each resume token it sends.
std::unique_ptr<RequestRenderer> make_renderer(const ReplayOptions& opts, PreparedRun& run, const http::LoadPlan& plan,
                                               CallbackBoard& board) {
  SendContext context;
  context.now_ms = current_time_ms;
  context.fill = fill_context(opts.options);
  auto renderer = take(RequestRenderer::create(std::move(run.items), run.request, std::move(context), plan.threads));
  renderer->on_callback = [&board](const CallbackRequest& c) { board.issued(c.job, c.resume_token); };
  return renderer;
}

std::vector<std::string> item_names(const std::vector<ReplayItem>& items) {
  std::vector<std::string> names;
  names.reserve(items.size());
  for (const auto& item : items) {
    names.push_back(item.name);
  }
  return names;
}

ReplayReporter make_reporter(const ReplayOptions& opts, const http::LoadPlan& plan,
                             const std::vector<std::string>& names) {
  std::size_t name_width = 0;
  for (const auto& name : names) {
    name_width = std::max(name_width, std::min<std::size_t>(name.size(), 40));
  }
  const bool every_line = opts.verbose || (plan.total != 0 && plan.total <= k_small_run);
  // In input order when the run's length is known and bounded: a line may
  // wait for a callback to be judged at the run's end.
  const bool in_order = plan.total != 0 && plan.total <= k_max_ordered_run;
  return ReplayReporter(opts.format, every_line, opts.quiet, name_width, in_order);
}

// Judges every finished request against its expectation, tallies it and
// hands it to the reporter. Requests that wait for a callback are held back
// until settle_callbacks(). delivered() runs on the load client's threads.
class ReplayJudge {
 public:
  ReplayJudge(const ReplayOptions& opts, const RequestRenderer& renderer,
              const std::vector<const Expectation*>& expectation_of, const std::vector<std::string>& names,
              std::optional<Expectation> repeat_expectation, CallbackBoard& board, ReplayReporter& reporter,
              unsigned threads)
      : m_renderer(renderer),
        m_expectation_of(expectation_of),
        m_names(names),
        m_repeat_expectation(std::move(repeat_expectation)),
        m_board(board),
        m_reporter(reporter),
        m_callback_timeout(std::chrono::milliseconds(std::llround(opts.callback_timeout * 1000))),
        m_tallies(threads) {}

  void delivered(unsigned thread, http::Delivered& delivered);
  // Waits for the callbacks still on their way (until the timeout, or a
  // stop), then judges the requests that waited for them, in job order.
  void settle_callbacks(const std::atomic<bool>& stop, RunFacts& facts);
  Tally total() const;
  // The first request that could not be delivered.
  const std::optional<http::Delivered>& unreachable() const { return m_unreachable; }

 private:
  void judge(ReplayRecord& r) const;

  const RequestRenderer& m_renderer;
  const std::vector<const Expectation*>& m_expectation_of;
  const std::vector<std::string>& m_names;
  const std::optional<Expectation> m_repeat_expectation;
  CallbackBoard& m_board;
  ReplayReporter& m_reporter;
  const std::chrono::milliseconds m_callback_timeout;
  std::vector<Tally> m_tallies;  // one per thread
  std::mutex m_pending_mutex;
  std::vector<ReplayRecord> m_pending;  // successful callback requests, judged once their callback is in
  std::mutex m_unreachable_mutex;
  std::optional<http::Delivered> m_unreachable;
};

void ReplayJudge::judge(ReplayRecord& r) const {
  r.met = expectation_met(*r.expectation, r.delivered, r.classified.answer_class);
  if (!r.met) {
    r.why_unmet =
        "expected " + r.expectation->text + (r.repeat && m_repeat_expectation ? " for a repeated webhook-id" : "") +
        ", got " +
        (r.delivered.delivery == http::Delivery::answered ? std::to_string(r.delivered.answer.status) + " " : "") +
        std::string(to_code(r.classified.answer_class)) +
        (r.classified.reason.empty() ? "" : ": " + r.classified.reason);
  }
  if (r.met && r.callback && r.callback->state == CallbackOutcome::State::timed_out) {
    r.met = false;
    r.why_unmet = "no callback with its resume_token within " + format_latency(m_callback_timeout);
  }
}

void ReplayJudge::delivered(unsigned thread, http::Delivered& delivered) {
  ReplayRecord r;
  r.job = delivered.job;
  r.item = m_renderer.item_of(delivered.job);
  r.input = &m_names[r.item];
  r.classified = classify(delivered);
  r.repeat = m_renderer.is_repeat(r.job);
  r.expectation = r.repeat && m_repeat_expectation ? &*m_repeat_expectation : m_expectation_of[r.item];
  r.delivered = std::move(delivered);
  if (r.classified.answer_class == AnswerClass::unreachable) {
    std::lock_guard lock(m_unreachable_mutex);
    if (!m_unreachable) {
      m_unreachable = r.delivered;
    }
  }
  if (m_renderer.is_callback(r.item)) {
    const bool awaited = r.classified.answer_class == AnswerClass::success;
    m_board.answered(r.job, awaited);
    if (awaited) {
      r.delivered.answer.body.clear();
      std::lock_guard lock(m_pending_mutex);
      m_pending.push_back(std::move(r));
      return;
    }
    r.callback = CallbackOutcome{CallbackOutcome::State::not_awaited, {}};
  }
  judge(r);
  m_tallies[thread].add(r);
  m_reporter.record(r);
}

void ReplayJudge::settle_callbacks(const std::atomic<bool>& stop, RunFacts& facts) {
  if (m_pending.empty()) {
    return;
  }
  m_board.wait(m_callback_timeout, &stop);
  std::sort(m_pending.begin(), m_pending.end(),
            [](const ReplayRecord& a, const ReplayRecord& b) { return a.job < b.job; });
  for (auto& r : m_pending) {
    r.callback = m_board.outcome(r.job);
    facts.callbacks_timed_out += r.callback && r.callback->state == CallbackOutcome::State::timed_out ? 1 : 0;
    judge(r);
    m_tallies[0].add(r);
    m_reporter.record(r);
  }
}

Tally ReplayJudge::total() const {
  Tally total;
  total.items.resize(m_names.size());
  for (const auto& t : m_tallies) {
    total.merge(t);
  }
  return total;
}

// Sends every request (a progress bar on a terminal meanwhile); returns
// once the load client is done or stopped.
void send_all(const ReplayOptions& opts, const http::LoadPlan& plan, RequestRenderer& renderer, ReplayJudge& judge,
              ReplayReporter& reporter, const std::atomic<bool>& stop) {
  http::LoadProgress progress;
  const bool show_progress = !opts.no_progress && !opts.quiet && ::isatty(STDERR_FILENO) == 1;
  std::unique_ptr<ProgressBar> bar;
  if (show_progress) {
    bar = std::make_unique<ProgressBar>(reporter, progress, plan.total, opts.duration);
  }
  const auto stats = run_load(
      plan, [&](unsigned t, std::uint64_t job, http::OutgoingRequest& out) { renderer.render(t, job, out); },
      [&](unsigned thread, http::Delivered& delivered) { judge.delivered(thread, delivered); }, &progress, &stop);
  bar.reset();
  if (!stats.ok()) {
    throw Failure(stats.error());
  }
}

// The summary and the JUnit file, then the exit status.
Outcome report(const ReplayOptions& opts, ReplayReporter& reporter, const std::vector<std::string>& names,
               const PreparedRun& run, const ReplayJudge& judge, const RunFacts& facts) {
  const auto total = judge.total();
  reporter.summary(total, facts);
  if (!opts.junit.empty()) {
    write_output(opts.junit, reporter.junit(names, run.expectation_of, total, facts));
  }
  if (judge.unreachable()) {
    fail_unreachable(http::shown_url(opts.url), *judge.unreachable());
  }
  return total.unmet == 0 && facts.callback_problems.empty() && !facts.stopped ? Outcome::success
                                                                               : Outcome::check_failed;
}

Outcome run_replay(const ReplayOptions& opts) {
  auto run = read_inputs(opts);
  // The first SIGINT or SIGTERM lets the requests in flight finish and be
  // reported; a second ends the process at once. Taken before the callback
  // endpoint starts its thread, so that every thread of the run leaves them
  // to StopSignals.
  std::atomic<bool> stop{false};
  const StopSignals signals([&stop](int) { stop.store(true); }, StopSignals::Again::terminate);
  CallbackEndpoint callbacks;
  start_callbacks(run, callbacks);
  const auto plan = load_plan(opts, run.url, run.items.size());
  auto renderer = make_renderer(opts, run, plan, callbacks.board);
  auto repeat_expectation = repeat_rule(opts, *renderer, plan.total);
  hint_as_is(renderer->items(), run.mode, run.expectation_of);
  const auto names = item_names(renderer->items());

  auto reporter = make_reporter(opts, plan, names);
  ReplayJudge judge(opts, *renderer, run.expectation_of, names, std::move(repeat_expectation), callbacks.board,
                    reporter, plan.threads);
  const auto started = std::chrono::steady_clock::now();
  send_all(opts, plan, *renderer, judge, reporter, stop);

  RunFacts facts;
  judge.settle_callbacks(stop, facts);
  reporter.finish();
  const auto elapsed = std::chrono::steady_clock::now() - started;  // callback waits included
  callbacks.stop();

  facts.url = opts.url;
  facts.connections = opts.concurrency;
  facts.seconds = std::chrono::duration<double>(elapsed).count();
  facts.callbacks_received = callbacks.board.received_count();
  facts.callback_problems = callbacks.board.problems();
  facts.stopped = stop.load();
  return report(opts, reporter, names, run, judge, facts);
}

// Where requests go and how they are signed.
void add_target_flags(CLI::App& cmd, ReplayOptions& opts) {
  add_url_flag(cmd, opts.url, "the endpoint, http(s)://HOST:PORT/PATH (required)");
  add_ca_cert_flag(cmd, opts.ca_cert, "for https: trust this CA certificate (PEM) too, as for a local dev server");
  add_private_key_flag(cmd, opts.private_key, "Ed25519 private key file (PEM or whsk_): signs v1a");
  add_secret_flags(cmd, opts.secrets);
  cmd.add_flag("--as-is", opts.as_is, "send captures exactly as captured: their headers, signatures and bytes");
  cmd.add_flag("--keep-id", opts.keep_id, "send each request's webhook-id on every repeat (to test idempotency)");
}

// How many requests, how fast, and how patiently.
void add_load_flags(CLI::App& cmd, ReplayOptions& opts) {
  cmd.add_option("-c,--concurrency", opts.concurrency, "connections in parallel")
      ->check(whole_number(1, 100'000))
      ->capture_default_str();
  cmd.add_option("--threads", opts.threads, "worker threads (default: one per core, at most --concurrency)")
      ->check(whole_number(0, 1024));
  cmd.add_option("--rate", opts.rate, "requests per second, all connections together (default: as fast as answered)")
      ->check(decimal_number(0, 10'000'000));
  cmd.add_option("-n,--repeat", opts.repeat, "send every input this many times")
      ->check(whole_number(1, 1'000'000'000'000))
      ->capture_default_str();
  add_duration(cmd, "-d,--duration", opts.duration, "keep sending, cycling through the inputs, for this long",
               {std::chrono::milliseconds(0), std::chrono::hours(24 * 365)});
  add_timeout_flag(cmd, opts.timeout);
  cmd.add_option("--retries", opts.retries,
                 "extra attempts after a connection error (not after a timeout or an answer)")
      ->check(whole_number(0, 100))
      ->capture_default_str();
}

// What every request carries besides its input.
void add_content_flags(CLI::App& cmd, ReplayOptions& opts) {
  add_header_flag(cmd, opts.headers, "add a header 'name: value' to every request, repeatable");
  cmd.add_option("--set", opts.sets, "set a field of every JSON body: PATH=STRING or PATH:=JSON, repeatable")
      ->allow_extra_args(false)
      ->type_name("PATH=VALUE");
  cmd.add_option("--option", opts.options, "a value for fixtures' {{option.NAME}} placeholders, NAME=VALUE, repeatable")
      ->allow_extra_args(false)
      ->type_name("NAME=VALUE");
  add_fixtures_flag(cmd, opts.fixtures_dir);
}

// What the answers must be.
void add_expectation_flags(CLI::App& cmd, ReplayOptions& opts) {
  cmd.add_option("--expect", opts.expects,
                 "what answers must be: statuses (200), classes (2xx), or success, skipped, failed, other, timeout; "
                 "comma-separated; INPUT=SPEC for one input; repeatable (default: 2xx)")
      ->allow_extra_args(false)
      ->type_name("SPEC");
  cmd.add_option("--expect-repeat", opts.expect_repeat,
                 "what answers to a repeated webhook-id must be (with --keep-id -n 2, or --as-is), as for --expect: "
                 "a deduplicating endpoint answers skipped or 409")
      ->type_name("SPEC");
}

// What epilot adds to a request: its token, and the callback it may wait for.
void add_epilot_flags(CLI::App& cmd, ReplayOptions& opts) {
  cmd.add_option("--token", opts.token,
                 "send this JWT as x-epilot-token (visible to ps: prefer --token-file)" + env_note(k_env_token))
      ->type_name("JWT");
  add_token_file_flag(cmd, opts.token_file, "read the x-epilot-token JWT from FILE");
  cmd.add_flag("--mock-token", opts.mock_token,
               "send a made-up x-epilot-token with epilot's claims, signed by a throwaway key (not epilot's)");
  add_duration(cmd, "--callback-timeout", opts.callback_timeout,
               "how long to wait for a wait_for_callback request's resume_token POST",
               {std::chrono::milliseconds(1), std::chrono::hours(24)});
}

// What is reported, and where.
void add_output_flags(CLI::App& cmd, ReplayOptions& opts) {
  add_format_flag(cmd, opts.format, "text, or json (a JSON line per request, then a summary)");
  add_junit_flag(cmd, opts.junit, "also write a JUnit XML report to FILE (one test case per input)");
  cmd.add_flag("-v,--verbose", opts.verbose, "a line for every request, however many");
  cmd.add_flag("-q,--quiet", opts.quiet, "only the summary");
  cmd.add_flag("--no-progress", opts.no_progress, "no progress bar, even on a terminal");
}

constexpr const char* k_replay_footer = R"(A file means what it holds: captures (JSON, JSON Lines, HAR, raw HTTP) are
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
  $ epilot-action replay -c 16 -d 30 --url http://127.0.0.1:3000/hook --secret-file webhook.secret -q)";

}  // namespace

Command register_replay(CLI::App& app) {
  auto opts = std::make_shared<ReplayOptions>();
  auto* cmd =
      app.add_subcommand("replay", "Send fixtures and captures to an endpoint, signed afresh, and judge the answers");
  cmd->add_option("inputs", opts->inputs,
                  "fixture names (or fixture:NAME|PATH), capture or payload files, directories, globs, or - "
                  "(default: the built-in custom-action fixture)");
  add_target_flags(*cmd, *opts);
  add_load_flags(*cmd, *opts);
  add_content_flags(*cmd, *opts);
  add_expectation_flags(*cmd, *opts);
  add_epilot_flags(*cmd, *opts);
  add_output_flags(*cmd, *opts);
  cmd->footer(k_replay_footer);
  return Command{cmd, [opts] { return run_replay(*opts); }};
}

}  // namespace epilot::cli
