// `epilot-action inspect`: everything about captured requests, at a glance.

#include <algorithm>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/input_output.hpp"
#include "cli/keysource.hpp"
#include "cli/wall_clock.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/timefmt.hpp"
#include "lib/webhook/input_formats.hpp"
#include "lib/webhook/inspect.hpp"

namespace epilot::cli {

namespace {

using Json = nlohmann::ordered_json;

struct InspectOptions {
  std::string capture;
  OutputFormat format = OutputFormat::text;
  std::optional<std::int64_t> now;
  std::int64_t tolerance = k_default_tolerance_seconds;
};

// A value as shown on a terminal: whatever a capture holds, it cannot move
// the cursor or hide a line.
std::string str(const Json& v) {
  return terminal_text(v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void row(const char* label, const std::string& value) { std::printf("%-15s %s\n", label, value.c_str()); }

// A value read from a svix-* header is labelled with that header's name.
std::string header_label(const Json& field, const char* standard) {
  return field.is_object() && field.contains("header") ? str(field["header"]) : std::string(standard);
}

void print_id_and_timestamp(const Json& d) {
  const auto& id = d["webhook_id"];
  row(header_label(id, "webhook-id").c_str(),
      id.is_null() ? "missing"
                   : str(id["value"]) + (id["epilot_shape"].get<bool>() ? "  (msg_ + 32 hex, as epilot sends)" : ""));
  const auto& ts = d["timestamp"];
  const auto ts_label = header_label(ts, "timestamp");
  if (ts.is_null()) {
    row("timestamp", "missing");
  } else if (ts.contains("error")) {
    row(ts_label.c_str(), str(ts["value"]) + "  (" + str(ts["error"]) + ")");
  } else {
    const auto age = ts["age_seconds"].get<std::int64_t>();
    row(ts_label.c_str(), str(ts["value"]) + " = " + str(ts["iso"]) + ", " + util::describe_duration(age) +
                              (age >= 0 ? " ago" : " in the future") +
                              (ts["within_tolerance"].get<bool>() ? " (within tolerance)" : " (OUTSIDE tolerance)"));
  }
}

void print_signature(const Json& d) {
  const auto& sig = d["signature"];
  const auto& svix = d["svix_headers"];
  const bool svix_signature =
      std::find(svix.begin(), svix.end(), Json(std::string(k_svix_header_signature))) != svix.end();
  if (sig.is_null()) {
    row("signature", "missing");
  } else {
    row(svix_signature ? "svix-signature" : "signature",
        std::to_string(sig.size()) + (sig.size() == 1 ? " entry" : " entries"));
    std::size_t i = 0;
    for (const auto& e : sig) {
      std::printf("  [%zu] %-4s %-11s %s%s\n", ++i, str(e["version"]).c_str(), str(e["scheme"]).c_str(),
                  e.contains("bytes") ? (std::to_string(e["bytes"].get<std::size_t>()) + " bytes, ").c_str() : "",
                  str(e["status"]).c_str());
    }
  }
  if (!svix.empty()) {
    std::printf(
        "  note: read from svix-* headers; Standard Webhooks and epilot send webhook-id, "
        "webhook-timestamp and webhook-signature, and verify reads svix-* ones only to explain a failure\n");
  }
}

void print_token(const Json& t) {
  row("x-epilot-token", "decoded, NOT verified (epilot's gateway verifies it)");
  if (t.contains("error")) {
    std::printf("  error: %s\n", str(t["error"]).c_str());
    return;
  }
  std::printf("  header:     %s\n", str(t["header"]).c_str());
  for (const char* key : {"org_id", "token_type"}) {
    if (t.contains(key)) {
      std::printf("  %-11s %s\n", (std::string(key) + ":").c_str(), str(t[key]).c_str());
    }
  }
  if (t.contains("issued_at")) {
    std::printf("  issued:     %s\n", str(t["issued_at"]).c_str());
  }
  if (t.contains("expires_at")) {
    const auto left = t["expires_in_seconds"].get<std::int64_t>();
    std::printf("  expires:    %s (%s)\n", str(t["expires_at"]).c_str(),
                left <= 0 ? ("expired " + util::describe_duration(left) + " ago").c_str()
                          : ("valid for " + util::describe_duration(left)).c_str());
  }
  if (t.contains("lifetime_seconds")) {
    std::printf("  lifetime:   %s\n", util::describe_duration(t["lifetime_seconds"].get<std::int64_t>()).c_str());
  }
  std::printf("  claims:     %s\n", str(t["claims"]).c_str());
}

void print_body_and_payload(const Json& d) {
  const auto& b = d["body"];
  row("body", std::to_string(b["bytes"].get<std::size_t>()) + " bytes, " + str(b["encoding"]) +
                  (b["json"].get<bool>() ? ", JSON" : ""));
  if (b["parsed"].get<bool>()) {
    std::printf(
        "  body_parsed: the body was parsed before it was logged (the capture holds JSON, not text); "
        "signatures cover the raw bytes; log the raw body (the size above is its compact re-serialisation's)\n");
  }
  const auto& p = d["payload"];
  if (p.is_object() && !p.empty()) {
    row("payload", (p.contains("type") ? str(p["type"]) : std::string("(no type)")) +
                       (p.contains("org_id") ? ", org " + str(p["org_id"]) : std::string()));
    for (const auto& [key, value] : p.items()) {
      if (key == "type" || key == "org_id") {
        continue;
      }
      std::printf("  %-18s %s\n", terminal_text(key + ":").c_str(), str(value).c_str());
    }
  }
}

void print_text(const Json& d) {
  row("request", str(d["method"]) + " " + (str(d["url"]).empty() ? "(no url)" : str(d["url"])));
  row("headers", std::to_string(d["headers"].size()));
  for (const auto& h : d["headers"]) {
    std::printf("  %s: %s\n", str(h["name"]).c_str(), str(h["value"]).c_str());
  }
  print_id_and_timestamp(d);
  print_signature(d);
  if (d.contains("epilot_token")) {
    print_token(d["epilot_token"]);
  }
  print_body_and_payload(d);
}

// `fields` as a JSON line of the event `name` ("event" first, as in every
// command's JSON output).
std::string json_event(const char* name, const Json& fields) {
  Json doc{{"event", name}};
  for (const auto& [key, value] : fields.items()) {
    doc[key] = value;
  }
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Outcome run_inspect(const InspectOptions& opts) {
  const auto source = opts.capture.empty() ? std::string("-") : opts.capture;
  const auto input = read_input(source, k_max_input_size);
  if (webhook::looks_like_key(input)) {
    auto key = webhook::inspect_key(input);
    if (!key) {
      auto error = key.error();
      error.message = (source == "-" ? "stdin" : source) + ": " + error.message;
      throw Failure(error);
    }
    if (opts.format == OutputFormat::json) {
      std::printf("%s\n", json_event("key", *key).c_str());
    } else {
      for (const auto& [name, value] : key->items()) {
        row(name.c_str(), str(value));
      }
    }
    return Outcome::success;
  }
  require_captures(source == "-" ? std::string("stdin") : source, input, source);
  auto requests = webhook::parse_requests(input);
  if (!requests) {
    auto error = requests.error();
    error.message = (source == "-" ? "stdin" : source) + ": " + error.message;
    throw Failure(error);
  }
  const auto now = opts.now.value_or(current_time());
  for (std::size_t i = 0; i < requests->size(); ++i) {
    const auto doc = inspect_request((*requests)[i], now, opts.tolerance);
    if (opts.format == OutputFormat::json) {
      std::printf("%s\n", json_event("request", doc).c_str());
    } else {
      if (requests->size() > 1) {
        std::printf("%s# request %zu of %zu\n", i == 0 ? "" : "\n", i + 1, requests->size());
      }
      print_text(doc);
    }
  }
  return Outcome::success;
}

}  // namespace

Command register_inspect(CLI::App& app) {
  auto opts = std::make_shared<InspectOptions>();
  auto* cmd =
      app.add_subcommand("inspect", "Show everything in captured requests: headers, signatures, token, payload");
  cmd->add_option("capture", opts->capture,
                  "a JSON capture, JSON Lines, a HAR file or a raw HTTP request, or a key; - for stdin (default)");
  add_format_flag(*cmd, opts->format, "text or json (one JSON object per request)");
  cmd->add_option("--now", opts->now, "show ages as of this unix time instead of the clock")
      ->check(whole_number(0, 999'999'999'999'999'999))
      ->type_name("UNIX");
  add_tolerance_flag(*cmd, opts->tolerance, "the tolerance the timestamp is checked against",
                     {std::chrono::seconds(0), std::chrono::hours(24 * 36500)});
  cmd->footer(R"(inspect checks nothing cryptographically (see verify): it decodes. The
x-epilot-token is decoded, not verified; credential headers are shortened.

Given a key (PEM, whpk_, whsk_) instead, inspect shows its fingerprint, the
name fetch-key and --expect-fingerprint use; never any private material.

Examples:
  $ epilot-action inspect request.json
  $ epilot-action inspect epilot.pem
  $ epilot-action inspect traffic.har --format json | jq .epilot_token.claims)");
  return Command{cmd, [opts] { return run_inspect(*opts); }};
}

}  // namespace epilot::cli
