// `epilot-action verify`: do captured requests verify, and if not, why not.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "cli/commands.hpp"
#include "cli/epilot_key.hpp"
#include "cli/flags.hpp"
#include "cli/input_output.hpp"
#include "cli/keysource.hpp"
#include "cli/output.hpp"
#include "cli/verify_keys.hpp"
#include "cli/wall_clock.hpp"
#include "lib/http/client.hpp"
#include "lib/http/url.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/fd.hpp"
#include "lib/util/file.hpp"
#include "lib/util/json_writer.hpp"
#include "lib/webhook/input_formats.hpp"
#include "lib/webhook/stream_verify.hpp"

namespace epilot::cli {

namespace {

struct VerifyOptions {
  std::string capture;
  VerifyKeyFlags keys;
  std::int64_t tolerance = k_default_tolerance_seconds;
  std::optional<std::int64_t> now;
  bool no_timestamp_check = false;
  OutputFormat format = OutputFormat::text;
  std::string body;
  std::vector<std::string> headers;
  unsigned jobs = 0;
  bool quiet = false;
  bool all_entries = false;
};

std::string age_text(std::int64_t age) {
  if (age >= 0) {
    return "sent " + std::to_string(age) + " s ago";
  }
  return "dated " + std::to_string(-age) + " s in the future";
}

// Prints results as they come, and counts them for the summary and exit status.
class Reporter {
 public:
  Reporter(const VerifyOptions& opts, const webhook::VerifyPolicy& policy) : m_opts(opts), m_policy(policy) {}

  void operator()(const webhook::RecordResult& r) {
    ++m_total;
    if (r.error) {
      ++m_unreadable;
    } else if (r.verification.ok()) {
      ++m_verified;
    } else {
      ++m_failed;
    }
    for (const auto& reason : r.reasons) {
      m_scheme_mismatch = m_scheme_mismatch || reason.code == webhook::ReasonCode::scheme_mismatch;
    }
    if (m_opts.quiet) {
      return;
    }
    if (m_opts.format == OutputFormat::json) {
      print_json(r);
    } else {
      print_text(r);
    }
  }

  void summary() const {
    if (m_opts.quiet) {
      return;
    }
    if (m_opts.format == OutputFormat::json) {
      m_line.clear();
      util::JsonWriter w(m_line);
      w.begin_object().key("event").string("summary").key("requests").number(m_total);
      w.key("verified").number(m_verified).key("failed").number(m_failed).key("unreadable").number(m_unreadable);
      if (left_out) {
        w.key("left_out").number(*left_out);
      }
      w.end_object();
      m_line += '\n';
      std::fwrite(m_line.data(), 1, m_line.size(), stdout);
    } else {
      std::printf("%zu requests: %zu verified, %zu not verified%s\n", m_total, m_verified, m_failed,
                  m_unreadable > 0 ? (", " + std::to_string(m_unreadable) + " unreadable").c_str() : "");
    }
  }

  Outcome outcome() const {
    // lib/ names no flag: how to give the missing kind of key is said here, once.
    if (m_scheme_mismatch && !m_opts.quiet) {
      print_hint(
          "a secret: --secret-file FILE or EPILOT_ACTION_SECRET; a public key: --public-key KEY, "
          "or --epilot-key for requests from epilot");
    }
    if (m_unreadable > 0) {
      fail(ErrorCode::bad_input,
           std::to_string(m_unreadable) + " of " + std::to_string(m_total) + " records could not be read");
    }
    return m_failed == 0 && m_total > 0 ? Outcome::success : Outcome::check_failed;
  }

  bool any_failed() const { return m_failed > 0; }

  bool multiple = false;                      // number the records in text output
  const webhook::VerifyKeys* keys = nullptr;  // what the entries were checked under, for their outcomes
  std::optional<std::size_t> left_out;        // HAR entries that were not webhook requests

 private:
  void print_text(const webhook::RecordResult& r) const {
    if (r.error) {
      std::printf("error line %zu: %s\n", r.line, terminal_text(r.error->message).c_str());
      return;
    }
    const auto& v = r.verification;
    const auto id = v.id.empty() ? std::string("-") : terminal_text(v.id);
    if (v.ok()) {
      const auto& entry = v.entries[v.match->entry_index];
      std::printf("%s%s  %s verified with %s; %s%s\n", toned("ok", Tone::good, STDOUT_FILENO, 6).c_str(), id.c_str(),
                  entry.version.c_str(), v.match->key_name.c_str(), age_text(v.age).c_str(),
                  m_policy.timestamp_check == webhook::TimestampCheck::skip ? " (timestamp not checked)" : "");
      return;
    }
    // The record is named on its own line, so that `grep ^FAIL` lists every
    // failed request once; its reasons follow, indented.
    std::printf("%s%s  %s\n", toned("FAIL", Tone::bad, STDOUT_FILENO, 6).c_str(), id.c_str(), record_name(r).c_str());
    for (const auto& reason : r.reasons) {
      std::printf("      %s: %s\n", std::string(to_code(reason.code)).c_str(), terminal_text(reason.message).c_str());
    }
  }

  // "entry 3 POST http://...", "line 7 POST ...": where the record is and what it is.
  std::string record_name(const webhook::RecordResult& r) const {
    std::string where;
    if (r.entry > 0) {
      where = "entry " + std::to_string(r.entry) + " ";
    } else if (r.line > 0) {
      where = "line " + std::to_string(r.line) + " ";
    } else if (multiple) {
      where = "request " + std::to_string(r.index + 1) + " ";
    }
    // The query and any user:password@ are left out: they may carry a credential.
    return where + terminal_text(r.method) + " " +
           (r.url.empty() ? std::string("(no url)") : terminal_text(http::shown_url(r.url)));
  }

  // Written without a JSON document: for a stream of HMAC captures, building
  // one per record cost more than the verification (issue 12).
  void print_json(const webhook::RecordResult& r) const {
    m_line.clear();
    util::JsonWriter w(m_line);
    w.begin_object().key("event").string("request");
    if (multiple) {
      w.key("index").number(r.index);
      if (r.line > 0) {
        w.key("line").number(r.line);
      }
    }
    if (r.entry > 0) {
      w.key("entry").number(r.entry);
    }
    if (r.error) {
      w.key("valid").boolean(false).key("verdict").string("unreadable").key("error").string(r.error->message);
    } else {
      write_verification(w, r);
    }
    w.end_object();
    m_line += '\n';
    std::fwrite(m_line.data(), 1, m_line.size(), stdout);
  }

  void write_verification(util::JsonWriter& w, const webhook::RecordResult& r) const {
    const auto& v = r.verification;
    w.key("webhook_id");
    if (v.id.empty()) {
      w.null();
    } else {
      w.string(v.id);
    }
    w.key("valid").boolean(v.ok()).key("verdict").string(to_code(v.verdict));
    if (v.timestamp) {
      w.key("timestamp").number(*v.timestamp).key("age_seconds").number(v.age);
    }
    if (v.match) {
      w.key("matched").begin_object().key("version").string(v.match->version).key("key").string(v.match->key_name);
      if (v.verdict == webhook::Verdict::body_parsed) {
        w.key("reencoded_body").boolean(true);  // not the bytes received: they were not logged
      }
      w.end_object();
    }
    static const webhook::VerifyKeys k_none;
    const auto outcomes = entry_outcomes(v, keys != nullptr ? *keys : k_none);
    w.key("entries").begin_array();
    for (std::size_t i = 0; i < v.entries.size(); ++i) {
      w.begin_object().key("version").string(v.entries[i].version).key("status").string(outcomes[i]).end_object();
    }
    w.end_array().key("reasons").begin_array();
    for (const auto& reason : r.reasons) {
      w.begin_object().key("code").string(to_code(reason.code)).key("message").string(reason.message).end_object();
    }
    w.end_array();
  }

  const VerifyOptions& m_opts;
  const webhook::VerifyPolicy& m_policy;
  std::size_t m_total = 0;
  std::size_t m_verified = 0;
  std::size_t m_failed = 0;
  std::size_t m_unreadable = 0;
  bool m_scheme_mismatch = false;
  mutable std::string m_line;  // the JSON line being written, its memory kept from one to the next
};

webhook::Capture request_from_flags(const VerifyOptions& opts) {
  if (!opts.capture.empty()) {
    fail(ErrorCode::usage, "--body can't be combined with a capture file",
         {"either verify a capture, or give --body FILE with -H headers"});
  }
  webhook::Capture request;
  request.method = std::string(k_default_method);
  request.body = read_input(opts.body, k_max_input_size);
  for (const auto& text : opts.headers) {
    request.headers.push_back(parse_header_flag(text));
  }
  return request;
}

// Open the input and read enough of it to tell its format.
struct OpenInput {
  int fd = -1;
  util::Fd owned;  // the file opened here (stdin is not ours to close)
  std::string name;
  std::string prefix;
  std::string path;  // as given ("-" for stdin)
};

void open_input(const std::string& path, OpenInput& in) {
  in.name = path == "-" ? "stdin" : path;
  in.path = path;
  if (path == "-") {
    if (::isatty(STDIN_FILENO) == 1) {
      fail(ErrorCode::usage, "refusing to read a capture from a terminal", {"pipe one in, or name a file"});
    }
    in.fd = STDIN_FILENO;
  } else {
    in.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in.fd < 0) {
      fail(ErrorCode::io, "cannot open " + path + ": " + std::strerror(errno));
    }
    in.owned.reset(in.fd);
  }
  // Up to the end of the first line with content (or 1 MiB, or the end).
  char buffer[1 << 16];
  while (in.prefix.size() < (1u << 20)) {
    const auto first = in.prefix.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && in.prefix.find('\n', first) != std::string::npos) {
      break;
    }
    const auto n = ::read(in.fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail(ErrorCode::io, "cannot read " + in.name + ": " + std::strerror(errno));
    }
    if (n == 0) {
      break;
    }
    in.prefix.append(buffer, static_cast<std::size_t>(n));
  }
}

// The entries of a HAR archive to check, 1-based: its webhook requests (the
// rule replay sends by), or with --all-entries every one. A browser export
// holds the page, its scripts and its API calls beside the webhooks.
std::vector<std::size_t> select_har_entries(const std::vector<webhook::Capture>& requests, const VerifyOptions& opts,
                                            const std::string& name) {
  std::vector<std::size_t> entries;
  if (opts.all_entries) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      entries.push_back(i + 1);
    }
    return entries;
  }
  const auto selection = select_webhook_requests(requests);
  const bool by_headers = selection.rule == webhook::WebhookRule::webhook_headers;
  const auto total = std::to_string(requests.size());
  if (selection.kept.empty()) {
    fail(ErrorCode::bad_input,
         name + " holds no webhook request: none of its " + total + " entries is a POST or carries webhook-* headers",
         {"check every entry anyway with --all-entries"});
  }
  for (const auto i : selection.kept) {
    entries.push_back(i + 1);
  }
  const auto left_out = requests.size() - entries.size();
  if (left_out > 0 && !opts.quiet) {
    print_warning(name + ": " + std::to_string(left_out) + " of its " + total + " entries " +
                  (left_out == 1 ? "is" : "are") + " left out: only those " +
                  (by_headers ? "with webhook-* headers" : "that are POSTs") +
                  " are checked (--all-entries checks every one)");
  }
  return entries;
}

// A JSON Lines stream, verified on every core as it is read.
Outcome verify_lines(const OpenInput& in, const VerifyOptions& opts, const webhook::VerifyPolicy& policy,
                     Reporter& report) {
  const auto keys = collect_verify_keys(opts.keys);
  report.keys = &keys.keys;
  report.multiple = true;
  webhook::StreamOptions stream;
  stream.threads = opts.jobs != 0 ? opts.jobs : std::max(1u, std::thread::hardware_concurrency());
  auto status = verify_stream(in.fd, in.prefix, keys.keys, keys.other, policy, stream,
                              [&](const webhook::RecordResult& r) { report(r); });
  if (!status) {
    auto error = status.error();
    error.message = in.name + ": " + error.message;
    throw Failure(error);
  }
  report.summary();
  // A stream is not verified twice, so the refetch-once of other inputs becomes advice.
  if (keys.epilot && keys.epilot->source != KeySource::network && report.any_failed()) {
    print_hint(
        "epilot's key came from the cache; if epilot has rotated it, run again with "
        "--epilot-key-max-age 0");
  }
  return report.outcome();
}

// epilot rotates keys without a key id: a cached key that fails is refetched
// once. True if it changed (and `keys` now hold the new one).
bool refetch_epilot_key(KeySet& keys, const VerifyOptions& opts) {
  const auto fresh = obtain_epilot_key(opts.keys.epilot, CacheMode::refresh);
  if (fresh.key == keys.epilot->key) {
    std::fprintf(stderr, "epilot-action: refetched epilot's key after a mismatch: it has not changed\n");
    return false;
  }
  std::fprintf(stderr, "epilot-action: epilot's key has changed since it was cached; verifying again with %s\n",
               fingerprint(fresh.key).c_str());
  for (auto& k : keys.keys.public_keys) {
    if (k.key == keys.epilot->key) {
      k = {epilot_key_name(fresh.key), fresh.key};
    }
  }
  keys.epilot = fresh;
  return true;
}

// Any other input, read whole (bounded) and detected again, so that errors
// speak of the whole input.
Outcome verify_whole(const OpenInput& in, bool har, const VerifyOptions& opts, const webhook::VerifyPolicy& policy,
                     Reporter& report) {
  auto rest = util::read_fd(in.fd, in.name, k_max_input_size - std::min(in.prefix.size(), k_max_input_size));
  if (!rest) {
    throw Failure(rest.error());
  }
  const auto text = in.prefix + *rest;
  require_captures(in.name, text, in.path);
  auto requests = webhook::parse_requests(text);
  if (!requests) {
    auto error = requests.error();
    error.message = in.name + ": " + error.message;
    throw Failure(error);
  }
  std::vector<std::size_t> entries;  // 1-based HAR entry numbers, when a HAR
  if (har) {
    entries = select_har_entries(*requests, opts, in.name);
    report.left_out = requests->size() - entries.size();
  }
  auto keys = collect_verify_keys(opts.keys);
  report.keys = &keys.keys;
  const auto verify_all = [&] {
    std::vector<webhook::RecordResult> results;
    const auto count = har ? entries.size() : requests->size();
    for (std::size_t i = 0; i < count; ++i) {
      const auto entry = har ? entries[i] : 0;
      results.push_back(verify_one((*requests)[har ? entry - 1 : i], keys.keys, keys.other, policy));
      results.back().index = i;
      results.back().entry = entry;
    }
    return results;
  };
  auto results = verify_all();
  const auto mismatch = [](const webhook::RecordResult& r) {
    return r.verification.verdict == webhook::Verdict::signature_mismatch;
  };
  if (keys.epilot && keys.epilot->source != KeySource::network && !opts.keys.epilot.offline &&
      std::any_of(results.begin(), results.end(), mismatch) && refetch_epilot_key(keys, opts)) {
    results = verify_all();
  }
  report.multiple = results.size() > 1;
  for (const auto& r : results) {
    report(r);
  }
  if (report.multiple) {
    report.summary();
  }
  return report.outcome();
}

Outcome run_verify(const VerifyOptions& opts) {
  webhook::VerifyPolicy policy;
  policy.now = opts.now.value_or(current_time());
  policy.tolerance = opts.tolerance;
  policy.timestamp_check = opts.no_timestamp_check ? webhook::TimestampCheck::skip : webhook::TimestampCheck::enforce;
  Reporter report(opts, policy);

  if (!opts.body.empty()) {
    const auto request = request_from_flags(opts);
    const auto keys = collect_verify_keys(opts.keys);
    report.keys = &keys.keys;
    report(verify_one(request, keys.keys, keys.other, policy));
    return report.outcome();
  }
  if (!opts.headers.empty()) {
    fail(ErrorCode::usage, "-H is for --body; a capture carries its own headers");
  }
  OpenInput in;
  open_input(opts.capture.empty() ? "-" : opts.capture, in);
  // Only JSON Lines are streamed.
  const auto format = webhook::detect_input_format(in.prefix);
  if (format && *format == webhook::InputFormat::json_lines) {
    require_captures(in.name, in.prefix, in.path);  // the first record tells
    // A line per record, hundreds of thousands a second: written in large
    // blocks rather than stdio's 4 KiB, unless a person is watching.
    static char out_buffer[1 << 18];
    if (::isatty(STDOUT_FILENO) == 0) {
      std::setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
    }
    return verify_lines(in, opts, policy, report);
  }
  return verify_whole(in, format && *format == webhook::InputFormat::har, opts, policy, report);
}

}  // namespace

Command register_verify(CLI::App& app) {
  auto opts = std::make_shared<VerifyOptions>();
  auto* cmd = app.add_subcommand("verify", "Check captured requests and say why they do not verify");
  cmd->add_option("capture", opts->capture,
                  "a JSON capture, JSON Lines of them, a HAR file or a raw HTTP request; - for stdin (default)");
  add_verify_key_flags(*cmd, opts->keys);
  add_tolerance_flag(*cmd, opts->tolerance, "allowed clock difference, both ways",
                     {std::chrono::seconds(0), std::chrono::hours(24 * 36500)});
  cmd->add_option("--now", opts->now, "check as of this unix time instead of the clock")
      ->check(whole_number(0, 999'999'999'999'999'999))
      ->type_name("UNIX");
  cmd->add_flag("--no-timestamp-check", opts->no_timestamp_check, "check only the signature");
  add_format_flag(*cmd, opts->format, "text or json (one JSON object per request)");
  cmd->add_option("--body", opts->body, "verify this raw body file (or -) with -H headers instead of a capture")
      ->type_name("FILE");
  add_header_flag(*cmd, opts->headers, "with --body: a request header 'name: value', repeatable");
  cmd->add_option("-j,--jobs", opts->jobs, "threads for JSON Lines streams (default: one per core)")
      ->check(whole_number(1, 1024));
  cmd->add_flag("-q,--quiet", opts->quiet, "print nothing; the exit status says it all");
  cmd->add_flag("--all-entries", opts->all_entries,
                "HAR: check every entry, not only the webhook requests (those with webhook-* headers, or "
                "the POSTs when none has them)");
  cmd->footer(R"(A request verifies if any webhook-signature entry verifies under any key
given, and webhook-timestamp is within --tolerance of now. When it does not,
the reasons follow, most likely first, each with a stable code: body_parsed,
body_base64_encoded, trailing_newline, line_endings_changed,
body_reserialized, timestamp_in_milliseconds, timestamp_not_canonical,
signature_hex_encoded, svix_headers, wrong_key, secret_format, ... (all of
them in the man page). Several requests (JSON Lines, HAR) give one result
each, in order, then a summary; of a HAR archive, only the webhook requests
are checked (with webhook-* headers, or the POSTs if none has them), unless
--all-entries. With no key named, verify uses EPILOT_ACTION_SECRET and the
default local public key (see keygen).
Exit status: 0 all verified, 1 any not verified, 2 bad input or usage.

Examples:
  $ epilot-action verify request.json --epilot-key
  $ epilot-action verify request.json --public-key epilot.pem
  $ epilot-action verify capture.http --secret-file webhook.secret --format json
  $ epilot-action verify traffic.har --public-key epilot.pem --now 1749649160
  $ epilot-action verify captures.jsonl --public-key epilot.pem --no-timestamp-check
  $ epilot-action verify --body body.json -H 'webhook-id: msg_1' \
      -H 'webhook-timestamp: 1749649159' -H 'webhook-signature: v1a,...' \
      --public-key whpk_... --now 1749649160)");
  return Command{cmd, [opts] { return run_verify(*opts); }};
}

}  // namespace epilot::cli
