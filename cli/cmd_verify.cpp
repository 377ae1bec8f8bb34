// `epilot-action verify`: does a captured request verify, and if not, why not.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <limits>
#include <memory>

#include "cli/commands.hpp"
#include "cli/input.hpp"
#include "cli/keysource.hpp"
#include "lib/constants.hpp"
#include "lib/diagnose.hpp"
#include "lib/file.hpp"
#include "lib/signature.hpp"

namespace epilot::cli {

namespace {

struct VerifyOptions {
  std::string capture;
  std::vector<std::string> public_keys;
  SecretFlags secrets;
  std::int64_t tolerance = k_default_tolerance_seconds;
  std::optional<std::int64_t> now;
  bool no_timestamp_check = false;
  std::string format = "text";
  std::string body;
  std::vector<std::string> headers;
  bool quiet = false;
};

VerifyKeys collect_keys(const VerifyOptions& opts) {
  VerifyKeys keys;
  const bool secrets_named = !opts.secrets.secrets.empty() || !opts.secrets.secret_files.empty();
  keys.secrets = load_secrets(opts.secrets, !secrets_named);
  for (const auto& spec : opts.public_keys) {
    keys.public_keys.push_back(load_public_key(spec));
  }
  if (keys.public_keys.empty() && keys.secrets.empty()) {
    const auto path = default_public_key_path();
    if (!file_exists(path)) {
      fail(ErrorCode::usage, "no key to verify with: name --public-key or --secret",
           {"epilot's key: epilot-action fetch-key > epilot.pem, then --public-key epilot.pem",
            "or create the default local keypair once: epilot-action keygen"});
    }
    auto key = load_public_key(path);
    key.name = "default (" + path + ")";
    keys.public_keys.push_back(std::move(key));
  }
  return keys;
}

Capture read_request(const VerifyOptions& opts) {
  if (!opts.body.empty()) {
    if (!opts.capture.empty()) {
      fail(ErrorCode::usage, "--body can't be combined with a capture file",
           {"either verify a capture, or give --body FILE with -H headers"});
    }
    Capture request;
    request.method = std::string(k_default_method);
    request.body = read_input(opts.body, k_max_input_size);
    for (const auto& text : opts.headers) {
      request.headers.push_back(parse_header_flag(text));
    }
    return request;
  }
  if (!opts.headers.empty()) {
    fail(ErrorCode::usage, "-H is for --body; a capture carries its own headers");
  }
  const auto source = opts.capture.empty() ? std::string("-") : opts.capture;
  auto request = parse_capture(read_input(source, k_max_input_size));
  if (!request) {
    auto error = request.error();
    error.message = (source == "-" ? "stdin" : source) + ": " + error.message;
    throw Failure(error);
  }
  return std::move(request).value();
}

std::string age_text(std::int64_t age) {
  if (age >= 0) {
    return "sent " + std::to_string(age) + " s ago";
  }
  return "dated " + std::to_string(-age) + " s in the future";
}

void print_text(const Verification& result, const std::vector<Reason>& reasons,
                const VerifyPolicy& policy) {
  const auto id = result.id.empty() ? std::string("-") : result.id;
  if (result.ok()) {
    const auto& entry = result.entries[result.match->entry_index];
    std::printf("ok    %s  %s verified with %s; %s%s\n", id.c_str(), entry.version.c_str(),
                result.match->key_name.c_str(), age_text(result.age).c_str(),
                policy.timestamp_check == TimestampCheck::skip ? " (timestamp not checked)" : "");
    return;
  }
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    std::printf("%s%s: %s\n", i == 0 ? ("FAIL  " + id + "  ").c_str() : "      ",
                reasons[i].code.c_str(), reasons[i].message.c_str());
  }
}

void print_json(const Verification& result, const std::vector<Reason>& reasons) {
  nlohmann::ordered_json doc;
  doc["webhook_id"] = result.id.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(result.id);
  doc["valid"] = result.ok();
  doc["verdict"] = verdict_code(result.verdict);
  if (result.timestamp) {
    doc["timestamp"] = *result.timestamp;
    doc["age_seconds"] = result.age;
  }
  if (result.match) {
    doc["matched"] = {{"version", result.match->version}, {"key", result.match->key_name}};
  }
  auto& entries = doc["entries"];
  entries = nlohmann::ordered_json::array();
  for (const auto& e : result.entries) {
    entries.push_back({{"version", e.version}, {"status", std::string(describe(e.status))}});
  }
  auto& list = doc["reasons"];
  list = nlohmann::ordered_json::array();
  for (const auto& r : reasons) {
    list.push_back({{"code", r.code}, {"message", r.message}});
  }
  std::printf("%s\n", doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

Outcome run_verify(const VerifyOptions& opts) {
  const auto request = read_request(opts);
  const auto keys = collect_keys(opts);
  VerifyPolicy policy;
  policy.now = opts.now.value_or(current_time());
  policy.tolerance = opts.tolerance;
  policy.timestamp_check = opts.no_timestamp_check ? TimestampCheck::skip : TimestampCheck::enforce;

  const auto result = verify_request(request, keys, policy);
  const auto reasons = explain(request, keys, policy, result);
  if (!opts.quiet) {
    if (opts.format == "json") {
      print_json(result, reasons);
    } else {
      print_text(result, reasons, policy);
    }
  }
  return result.ok() ? Outcome::success : Outcome::check_failed;
}

}  // namespace

Command register_verify(CLI::App& app) {
  auto opts = std::make_shared<VerifyOptions>();
  auto* cmd = app.add_subcommand("verify", "Check a captured request and say why it does not verify");
  cmd->add_option("capture", opts->capture, "capture file (JSON or raw HTTP), or - for stdin (default)");
  cmd->add_option("--public-key", opts->public_keys,
                  "Ed25519 public key: a PEM file or whpk_..., repeatable")
      ->allow_extra_args(false);
  add_secret_flags(*cmd, opts->secrets);
  cmd->add_option("--tolerance", opts->tolerance, "allowed clock difference in seconds, both ways")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000'000'000}))
      ->capture_default_str();
  cmd->add_option("--now", opts->now, "check as of this unix time instead of the clock")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{999'999'999'999'999'999}));
  cmd->add_flag("--no-timestamp-check", opts->no_timestamp_check, "check only the signature");
  cmd->add_option("--format", opts->format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--body", opts->body, "verify this raw body file (or -) with -H headers instead of a capture");
  cmd->add_option("-H,--header", opts->headers, "with --body: a request header 'name: value', repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("-q,--quiet", opts->quiet, "print nothing; the exit status says it all");
  cmd->footer(R"(The request verifies if any webhook-signature entry verifies under any key
given, and webhook-timestamp is within --tolerance of now. With no key named,
verify uses EPILOT_ACTION_SECRET and the default local public key (see keygen).
Exit status: 0 verified, 1 not verified, 2 bad input or usage.

Examples:
  $ epilot-action verify request.json --public-key epilot.pem
  $ epilot-action verify capture.http --secret-file webhook.secret --format json
  $ epilot-action verify --body body.json -H 'webhook-id: msg_1' \
      -H 'webhook-timestamp: 1749649159' -H 'webhook-signature: v1a,...' \
      --public-key whpk_... --now 1749649160)");
  return Command{cmd, [opts] { return run_verify(*opts); }};
}

}  // namespace epilot::cli
