// `epilot-action check`: run the conformance battery against an endpoint:
// genuine requests must be accepted, forged, tampered, stale, unsigned and
// replayed ones refused. The battery and its verdicts are lib/epilot/check_battery's; this
// file turns flags into a run and reports it.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "cli/callback_endpoint.hpp"
#include "cli/check_report.hpp"
#include "cli/commands.hpp"
#include "cli/fixture_context.hpp"
#include "cli/flag_values.hpp"
#include "cli/flags.hpp"
#include "cli/input_output.hpp"
#include "cli/keysource.hpp"
#include "cli/unreachable.hpp"
#include "cli/wall_clock.hpp"
#include "lib/epilot/check_battery.hpp"
#include "lib/epilot/check_run.hpp"
#include "lib/epilot/replay_plan.hpp"
#include "lib/http/client.hpp"
#include "lib/http/url.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"
#include "lib/util/suggest.hpp"
#include "lib/webhook/jwt.hpp"

namespace epilot::cli {

namespace {

std::string format_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", seconds);
  return text;
}

// A tolerance beyond a year is a mistake (milliseconds for seconds?).
constexpr std::int64_t k_max_tolerance = 365 * 24 * 3600;

struct CheckOptions {
  std::string payload;  // a payload file, "-", or a fixture's name
  std::string url;
  std::string private_key;
  SecretFlags secrets;
  std::string fixture;
  std::string fixtures_dir;
  std::vector<std::string> options;
  std::vector<std::string> sets;
  std::int64_t tolerance = k_default_tolerance_seconds;
  std::vector<std::string> only;
  std::vector<std::string> skip;
  bool strict = false;
  std::string duplicate_answer;
  bool list = false;
  std::vector<std::string> headers;
  double timeout = 10;
  double wait = 0;
  std::string ca_cert;
  OutputFormat format = OutputFormat::text;
  std::string junit;
  bool mock_token = false;
  std::string token_file;
  bool verbose = false;
};

// "a,b" "c" -> a, b, c; every one a case id.
std::vector<const CaseInfo*> case_list(const std::vector<std::string>& texts, const char* flag) {
  std::vector<std::string_view> names;
  for (const auto& info : check_battery()) {
    names.push_back(info.name);
  }
  std::vector<const CaseInfo*> out;
  for (const auto& text : texts) {
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto comma = std::min(text.find(',', start), text.size());
      const auto id = std::string(util::trim_whitespace(std::string_view(text).substr(start, comma - start)));
      start = comma + 1;
      if (id.empty()) {
        continue;
      }
      const auto* info = find_case(id);
      if (info == nullptr) {
        auto close = util::similar_names(id, names);
        std::vector<std::string> hints;
        if (!close.empty()) {
          hints.push_back("did you mean '" + close.front() + "'?");
        }
        hints.push_back("the cases: epilot-action check --list");
        fail(ErrorCode::usage, std::string(flag) + " names '" + terminal_text(id) + "', which is not a case", hints);
      }
      out.push_back(info);
    }
  }
  return out;
}

// Why each case of the battery is left out, from --only and --skip.
std::vector<std::string> left_out(const CheckOptions& opts) {
  const auto only = case_list(opts.only, "--only");
  const auto skip = case_list(opts.skip, "--skip");
  if (!opts.only.empty() && only.empty()) {
    fail(ErrorCode::usage, "--only names no case", {"the cases: epilot-action check --list"});
  }
  for (const auto* info : only) {
    if (std::find(skip.begin(), skip.end(), info) != skip.end()) {
      fail(ErrorCode::usage, "--only and --skip both name " + std::string(info->name));
    }
  }
  const auto battery = check_battery();
  std::vector<std::string> out(battery.size());
  for (std::size_t i = 0; i < battery.size(); ++i) {
    const auto* info = &battery[i];
    if (std::find(skip.begin(), skip.end(), info) != skip.end()) {
      if (info->id == CaseId::genuine) {
        fail(ErrorCode::usage, "--skip can't leave out genuine: every other case is judged against it");
      }
      out[i] = "left out by --skip";
    } else if (!only.empty() && info->id != CaseId::genuine &&
               std::find(only.begin(), only.end(), info) == only.end()) {
      out[i] = "not named by --only";
    }
  }
  return out;
}

// The genuine request's template: a payload file, a fixture, or the built-in
// custom-action request.
const Fixture& genuine_fixture(const CheckOptions& opts) {
  auto& catalog = fixture_catalog(opts.fixtures_dir);
  if (!opts.fixture.empty() && !opts.payload.empty()) {
    fail(ErrorCode::usage, "--fixture can't be combined with a payload file");
  }
  std::string ref = opts.fixture.empty() ? opts.payload : opts.fixture;
  if (ref.empty()) {
    return checked_fixture(*catalog.find(k_builtin_payload_name));
  }
  if (ref.rfind(k_fixture_prefix, 0) == 0) {
    return resolve_fixture(catalog, ref.substr(k_fixture_prefix.size()));
  }
  if (opts.fixture.empty() && (ref == "-" || util::file_exists(ref))) {
    auto data = read_input(ref, k_max_input_size);
    warn_stdin_newline(ref, data, "sent");
    return checked_fixture(fixture_from_file(catalog, ref == "-" ? "stdin" : ref, std::move(data)));
  }
  return resolve_fixture(catalog, ref);
}

// Makes the genuine request, unsigned, at the moment a case is built: its
// placeholders filled afresh, the headers every case carries.
class BaseRequest {
 public:
  BaseRequest(const CheckOptions& opts, const http::ParsedUrl& url, const Fixture& fixture)
      : m_fixture(fixture), m_fill(fill_context(opts.options)) {
    m_host = host_header(url);
    // As parsed: no userinfo, no fragment (neither ever goes on the wire).
    m_url = url.scheme + "://" + m_host + url.target;
    for (const auto& text : opts.sets) {
      m_sets.push_back(take(parse_assignment(text, "--set")));
    }
    for (const auto& text : opts.headers) {
      auto header = parse_header_flag(text);
      if (webhook::is_signing_header(header.name)) {
        fail(ErrorCode::usage,
             "-H can't set " + util::to_lower_ascii(header.name) + ": check signs every request itself");
      }
      if (is_transport_header(header.name) && !util::iequals_ascii(header.name, "host")) {
        fail(ErrorCode::usage,
             "-H can't set " + util::to_lower_ascii(header.name) + ": check frames every request itself");
      }
      m_headers.push_back(std::move(header));
    }
    if (opts.mock_token) {
      m_token_key = webhook::generate_private_key(util::system_random());
    } else {
      m_token = load_token("", opts.token_file);
    }
    m_last = make();  // fails here, not in the middle of the run
  }

  // A body that waits for a callback has data.callback_post_url pointed at
  // `callbacks`, which answers the app's resume POST (it is not judged).
  void call_back_to(CallbackEndpoint& callbacks) {
    m_callbacks = &callbacks;
    m_callback_url = callbacks.start();
    m_last = make();
  }

  bool waits_for_callback() const { return epilot::waits_for_callback(m_last.body); }

  // Never throws: the first make() checked what could fail.
  CaseContext context(std::int64_t tolerance) {
    CaseContext context;
    try {
      m_last = make();
    } catch (const Failure&) {
      // keep the last good one
    }
    context.base = m_last;
    context.now = current_time_ms() / 1000;
    context.tolerance = tolerance;
    context.random = util::system_random();
    return context;
  }

 private:
  webhook::Capture make() {
    auto fill = m_fill;
    fill.now_ms = current_time_ms();
    auto instance = take(instantiate_fixture(m_fixture, fill, m_sets));
    webhook::Capture request;
    request.method = std::string(k_default_method);
    request.url = m_url;
    request.headers.push_back({"Host", m_host});
    for (auto& h : instance.headers) {
      if (is_transport_header(h.name)) {
        continue;  // the request's own framing is computed
      }
      take(http::validate_header(h.name, h.value));
      request.set_header(h.name, std::move(h.value));
    }
    for (const auto& h : m_headers) {
      request.set_header(h.name, h.value);
    }
    if (request.find_header(k_header_content_type) == nullptr) {
      request.headers.push_back({"Content-Type", std::string(content_type_for(instance.body))});
    }
    if (request.find_header("user-agent") == nullptr) {
      request.headers.push_back({"User-Agent", "epilot-action/" EPILOT_VERSION});
    }
    if (m_token_key) {
      request.set_header(k_header_epilot_token,
                         mock_epilot_token(org_id_of(instance.body), fill.now_ms / 1000, *m_token_key));
    } else if (!m_token.empty()) {
      request.set_header(k_header_epilot_token, m_token);
    }
    request.body = std::move(instance.body);
    if (m_callbacks != nullptr) {
      util::Bytes raw(16);
      util::system_random()(raw.data(), raw.size());
      const auto token = "rt_" + util::to_hex(raw);
      request.body = take(with_callback(request.body, m_callback_url, token));
      const auto n = m_issued++;
      m_callbacks->board.issued(n, token);
      m_callbacks->board.answered(n, false);
    }
    return request;
  }

  const Fixture& m_fixture;
  std::string m_url;
  std::string m_host;
  FillContext m_fill;
  std::vector<std::pair<std::string, std::string>> m_sets;
  std::vector<http::Header> m_headers;
  std::optional<webhook::PrivateKey> m_token_key;
  std::string m_token;
  CallbackEndpoint* m_callbacks = nullptr;
  std::string m_callback_url;
  std::uint64_t m_issued = 0;
  webhook::Capture m_last;
};

// The keys, and how the report names the one the endpoint must trust.
CheckKeys check_keys(const CheckOptions& opts, CheckFacts& facts) {
  auto loaded = load_signing_keys(opts.private_key, opts.secrets);
  CheckKeys keys;
  keys.private_key = loaded.private_key;
  if (!loaded.secrets.empty()) {
    keys.secret = loaded.secrets.front().secret;
    if (loaded.secrets.size() > 1) {
      print_warning("check signs with one secret; the first is used (" + loaded.secrets.front().name + ")");
    }
  }
  if (keys.private_key) {
    facts.scheme = "v1a";
    facts.whpk = to_whpk(keys.private_key->public_key);
    facts.fingerprint = fingerprint(keys.private_key->public_key);
  } else {
    facts.scheme = "v1";
    facts.secret_source = loaded.secrets.front().name;
  }
  return keys;
}

void check_flags(const CheckOptions& opts) {
  if (opts.url.empty()) {
    fail(ErrorCode::usage, "name the endpoint with --url", {"for example: --url http://127.0.0.1:3000/hook"});
  }
  if (opts.mock_token && !opts.token_file.empty()) {
    fail(ErrorCode::usage, "--mock-token and --token-file can't be combined");
  }
}

std::optional<DuplicateAnswer> duplicate_answer(const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  auto parsed = parse_duplicate_answer(text);
  if (!parsed.ok()) {
    fail(parsed.error().code, "--duplicate-answer " + parsed.error().message, parsed.error().hints);
  }
  return std::move(parsed).value();
}

// Where the cases go; the sender makes it one connection per case.
http::LoadPlan load_plan(const CheckOptions& opts, const http::ParsedUrl& url) {
  http::LoadPlan plan;
  plan.host = url.host;
  plan.port = url.port;
  plan.tls = url.scheme == "https";
  plan.ca_cert = opts.ca_cert;
  plan.timeout = std::chrono::milliseconds(std::llround(opts.timeout * 1000));
  return plan;
}

// A report file the run could not write would lose the run's result: make
// sure its folder is there before anything is sent.
void check_report_path(const std::string& path) {
  if (path.empty() || path == "-") {
    return;
  }
  std::error_code error;
  const auto parent = std::filesystem::path(path).parent_path();
  if (std::filesystem::is_directory(path, error)) {
    fail(ErrorCode::usage, "--junit " + path + " is a folder", {"name the report file: --junit check.xml"});
  }
  if (!parent.empty() && !std::filesystem::is_directory(parent, error)) {
    fail(ErrorCode::io, "--junit " + path + ": the folder " + parent.string() + " does not exist");
  }
}

Outcome run_check(const CheckOptions& opts) {
  if (opts.list) {
    // --url is not refused: EPILOT_ACTION_URL may well be set in CI.
    if (!opts.payload.empty()) {
      fail(ErrorCode::usage, "--list takes nothing else: it only lists the cases");
    }
    std::fputs(battery_listing(opts.format == OutputFormat::json).c_str(), stdout);
    return Outcome::success;
  }
  check_flags(opts);
  check_report_path(opts.junit);
  const auto url = take(http::parse_url(opts.url));
  const auto skipped = left_out(opts);
  const auto duplicate = duplicate_answer(opts.duplicate_answer);
  CheckFacts facts;
  facts.url = http::shown_url(opts.url);
  facts.tolerance = opts.tolerance;
  facts.strict = opts.strict;
  facts.duplicate_answer = !opts.duplicate_answer.empty();

  BatteryRun run;
  run.keys = check_keys(opts, facts);
  const auto& fixture = genuine_fixture(opts);
  if (!opts.options.empty() && !has_placeholders(fixture.text)) {
    print_warning("--option is ignored: the payload has no {{option.NAME}} placeholder");
  }
  BaseRequest base(opts, url, fixture);
  CallbackEndpoint callbacks;
  if (base.waits_for_callback()) {
    base.call_back_to(callbacks);
  }
  run.context = [&] { return base.context(opts.tolerance); };
  run.left_out = skipped;
  run.duplicate = duplicate ? &*duplicate : nullptr;
  CheckReporter reporter(opts.format == OutputFormat::json ? CheckReporter::Format::json : CheckReporter::Format::text,
                         opts.verbose, opts.strict, skipped);
  // A genuine request that could not be delivered at all is exit 3, and
  // the run says nothing else.
  bool unreachable = false;
  run.on_case = [&](const CaseResult& r) {
    if (r.info->id == CaseId::genuine && !r.answers.empty() &&
        r.answers.front().delivered.delivery == http::Delivery::unreachable) {
      unreachable = true;
    }
    if (!unreachable) {
      reporter.start(facts);
      reporter.record(r);
    }
  };

  auto sender = make_load_sender(load_plan(opts, url), std::chrono::milliseconds(std::llround(opts.wait * 1000)));

  const auto started = std::chrono::steady_clock::now();
  const auto results = take(run_battery(run, *sender));
  facts.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // The report is written whatever happened: a CI job's artifact step
  // looks for it even when the endpoint never came up.
  if (!opts.junit.empty()) {
    write_output(opts.junit, check_junit(results, facts));
  }
  if (unreachable) {
    const auto waited = opts.wait > 0 ? " within " + format_seconds(opts.wait) + " (--wait)" : std::string();
    fail_unreachable(facts.url + waited, results.front().answers.front().delivered);
  }
  reporter.summary(results, facts);
  return count(results).ok(opts.strict) ? Outcome::success : Outcome::check_failed;
}

}  // namespace

Command register_check(CLI::App& app) {
  auto opts = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand("check", "Prove that an endpoint accepts genuine requests and refuses forged ones");
  cmd->add_option("payload", opts->payload,
                  "the genuine request's payload: a file, - for stdin, or a fixture's name (default: the built-in "
                  "custom-action request)");
  add_url_flag(*cmd, opts->url, "the endpoint, http(s)://HOST:PORT/PATH (required)");
  add_private_key_flag(*cmd, opts->private_key, "Ed25519 private key file (PEM or whsk_): tests v1a");
  add_secret_flags(*cmd, opts->secrets);
  cmd->add_option("--fixture", opts->fixture, "the genuine request's fixture: NAME or FILE")->type_name("NAME|FILE");
  add_fixtures_flag(*cmd, opts->fixtures_dir);
  cmd->add_option("--option", opts->options, "a value for {{option.NAME}} placeholders, NAME=VALUE, repeatable")
      ->allow_extra_args(false)
      ->type_name("NAME=VALUE");
  cmd->add_option("--set", opts->sets, "set a field of the JSON body: PATH=STRING or PATH:=JSON, repeatable")
      ->allow_extra_args(false)
      ->type_name("PATH=VALUE");
  add_tolerance_flag(*cmd, opts->tolerance, "the clock skew the endpoint is meant to allow",
                     {std::chrono::seconds(1), std::chrono::seconds(k_max_tolerance)});
  cmd->add_option("--only", opts->only, "run only these cases (comma-separated ids; genuine always runs)")
      ->allow_extra_args(false)
      ->type_name("IDS");
  cmd->add_option("--skip", opts->skip, "leave out these cases (comma-separated ids)")
      ->allow_extra_args(false)
      ->type_name("IDS");
  cmd->add_flag("--strict", opts->strict, "fail the run when any case fails, should cases included");
  cmd->add_option("--duplicate-answer", opts->duplicate_answer,
                  "how the endpoint answers a repeat when it deduplicates silently: SPEC or SPEC:TEXT "
                  "(statuses or classes as for replay --expect; TEXT: in the answer's body), e.g. 200:duplicate")
      ->type_name("SPEC");
  cmd->add_flag("--list", opts->list, "list the battery's cases and exit");
  add_header_flag(*cmd, opts->headers, "add a header 'name: value' to every request, repeatable");
  add_timeout_flag(*cmd, opts->timeout);
  add_duration(
      *cmd, "--wait", opts->wait,
      "keep trying to connect for up to this long while the endpoint starts (as in CI, just after starting the app)",
      {std::chrono::milliseconds(0), std::chrono::hours(1)});
  add_ca_cert_flag(*cmd, opts->ca_cert, "for https: trust this CA certificate (PEM) too, as for a local dev server");
  add_format_flag(*cmd, opts->format, "text, or json (a JSON line per case, then a summary)");
  add_junit_flag(*cmd, opts->junit, "also write a JUnit XML report to FILE (one test case per case)");
  cmd->add_flag("--mock-token", opts->mock_token,
                "send a made-up x-epilot-token with epilot's claims, signed by a throwaway key (not epilot's)");
  add_token_file_flag(*cmd, opts->token_file, "send the JWT in FILE as x-epilot-token");
  cmd->add_flag("-v,--verbose", opts->verbose, "show what each case sent and got");
  cmd->footer(R"(Every case is a request built and signed as it is sent: v1a with
--private-key (default: the local keypair), v1 when only a secret is named
(--secret-file, EPILOT_ACTION_SECRET). genuine goes first; if the endpoint
does not accept it, every other case is inconclusive.

must cases (a failure means the endpoint can be fooled): forged-key,
tampered-body, tampered-id, tampered-timestamp, unsigned, empty-signature,
stale, future, wrong-scheme, version-swap. should cases (the endpoint will
break on real traffic or under attack) count only with --strict.
'epilot-action check --list' describes each one.

Exit status: 0 when every must case passed (with --strict, every case that
ran), 1 otherwise, 2 for bad usage, 3 when the endpoint can't be reached.

Examples:
  $ epilot-action check --url http://127.0.0.1:3000/hook
  $ epilot-action check --url http://127.0.0.1:3000/hook --strict --junit check.xml --wait 30
  $ epilot-action check --url http://127.0.0.1:3000/hook --secret-file webhook.secret
  $ epilot-action check mypayload.json --url http://127.0.0.1:3000/hook --tolerance 600
  $ epilot-action check --url http://127.0.0.1:3000/hook --only stale,future,replayed
  $ epilot-action check --url http://127.0.0.1:3000/hook --duplicate-answer 200:duplicate)");
  return Command{cmd, [opts] { return run_check(*opts); }};
}

}  // namespace epilot::cli
