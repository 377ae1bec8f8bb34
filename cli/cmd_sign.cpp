// `epilot-action sign`: a payload in, a signed request (a capture) out.

#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "cli/fixture_context.hpp"
#include "cli/flag_values.hpp"
#include "cli/flags.hpp"
#include "cli/input_output.hpp"
#include "cli/keysource.hpp"
#include "cli/wall_clock.hpp"
#include "lib/epilot/input_kind.hpp"
#include "lib/epilot/replay_plan.hpp"
#include "lib/epilot/templates.hpp"
#include "lib/http/wire.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"
#include "lib/webhook/capture_json.hpp"
#include "lib/webhook/input_formats.hpp"
#include "lib/webhook/raw_http.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot::cli {

namespace {

// --format: the signed request as a capture (JSON), or as raw HTTP/1.1.
enum class SignFormat { json, http };

struct SignOptions {
  std::string payload;  // empty: the built-in custom-action payload
  std::string fixture;
  std::string fixtures_dir;
  std::vector<std::string> sets;
  std::vector<std::string> options;
  std::string private_key;
  SecretFlags secrets;
  std::optional<std::string> id;  // given, even empty (which is refused)
  std::optional<std::string> timestamp;
  std::optional<std::string> url;     // default: the capture's, else k_default_url
  std::optional<std::string> method;  // default: the capture's, else POST
  std::vector<std::string> headers;
  std::string out;
  SignFormat format = SignFormat::json;
  bool compact = false;
};

// A capture given to sign is signed again: its method, URL, body and headers
// (but its framing and old signature) are kept.
webhook::Capture resign_capture(const std::string& path, std::string_view data) {
  auto requests = webhook::parse_requests(data);
  if (!requests.ok()) {
    fail(requests.error().code, path + ": " + requests.error().message, requests.error().hints);
  }
  if (requests->size() != 1) {
    fail(ErrorCode::usage, path + " holds " + std::to_string(requests->size()) + " requests; sign takes one",
         {"to send them all signed afresh: epilot-action replay " + path + " --url URL"});
  }
  webhook::Capture request = std::move(requests->front());
  if (auto body = decoded_event_body(request)) {
    print_warning(path + ": its body is base64 (\"isBase64Encoded\": true); the decoded bytes are signed");
    request.body = std::move(*body);
    request.body_base64_event = false;
  }
  if (request.body_parsed) {
    print_warning(path +
                  ": the body was logged parsed (JSON, not the text received); it is signed re-encoded "
                  "compactly, which may not be the bytes epilot sent");
  }
  std::erase_if(request.headers, [](const http::Header& h) {
    return is_transport_header(h.name) || webhook::is_signing_header(h.name);
  });
  return request;
}

// The request to sign, with the headers a request-form fixture adds.
webhook::Capture unsigned_request(const SignOptions& opts, std::vector<http::Header>& fixture_headers) {
  std::vector<std::pair<std::string, std::string>> sets;
  for (const auto& text : opts.sets) {
    sets.push_back(take(parse_assignment(text, "--set")));
  }
  if (!opts.fixture.empty() && !opts.payload.empty()) {
    fail(ErrorCode::usage, "--fixture can't be combined with a payload file");
  }
  auto& catalog = fixture_catalog(opts.fixtures_dir);
  const Fixture* fixture = nullptr;
  webhook::Capture request;
  // The spellings replay takes: fixture:NAME or fixture:PATH, and a
  // fixture's bare name where no file has it.
  std::string fixture_ref = opts.fixture;
  std::string payload = opts.payload;
  if (payload.rfind(k_fixture_prefix, 0) == 0 ||
      (!payload.empty() && payload != "-" && !util::file_exists(payload) && catalog.find(payload) != nullptr)) {
    fixture_ref = payload;
    payload.clear();
  }
  if (fixture_ref.rfind(k_fixture_prefix, 0) == 0) {
    fixture_ref.erase(0, k_fixture_prefix.size());
  }
  if (!fixture_ref.empty()) {
    fixture = &resolve_fixture(catalog, fixture_ref);
  } else if (payload.empty()) {
    fixture = &checked_fixture(*catalog.find(k_builtin_payload_name));
  } else {
    auto data = read_input(payload, k_max_input_size);
    const auto name = payload == "-" ? std::string("stdin") : payload;
    const auto kind = classify_input(data, payload);
    if (kind.ok() && *kind == InputKind::payload_lines) {
      fail(ErrorCode::usage, name + " holds JSON Lines, a payload a line; sign takes one payload",
           {"to send a request per line, signed: epilot-action replay " + name + " --url URL"});
    }
    if (kind.ok() && *kind == InputKind::captures) {
      if (!opts.options.empty()) {
        print_warning("--option is ignored: a capture has no placeholders");
      }
      request = resign_capture(name, data);
      request.body = take(apply_overrides(request.body, sets));
      return request;
    }
    if (!kind.ok()) {
      // sign signs any bytes, a broken JSON text included (to see how an endpoint copes).
      print_warning(name + ": " + kind.error().message + "; it is signed byte for byte as it is");
    } else {
      warn_stdin_newline(payload, data, "signed");
    }
    fixture = &fixture_from_file(catalog, name, std::move(data));
  }
  if (!opts.options.empty() && !has_placeholders(fixture->text)) {
    print_warning("--option is ignored: the payload has no {{option.NAME}} placeholder");
  }
  auto instance = take(instantiate_fixture(*fixture, fill_context(opts.options), sets));
  request.body = std::move(instance.body);
  fixture_headers = std::move(instance.headers);
  return request;
}

Outcome run_sign(const SignOptions& opts) {
  std::vector<http::Header> fixture_headers;
  webhook::Capture request = unsigned_request(opts, fixture_headers);
  if (opts.method || request.method.empty()) {
    request.method = opts.method.value_or(std::string(k_default_method));
  }
  if (opts.url || request.url.empty()) {
    request.url = opts.url.value_or(std::string(k_default_url));
  }
  // They go onto the wire as they are when the capture is sent: a space, CR
  // or LF in them would start a line of their choosing.
  if (!http::wire::is_token(request.method)) {
    fail(ErrorCode::usage,
         "-X '" + http::wire::printable(request.method) + "' is not an HTTP method (letters, digits, !#$%&'*+-.^_`|~)");
  }
  if (!http::wire::is_visible_ascii(request.url)) {
    fail(ErrorCode::usage,
         "--url '" + http::wire::printable(request.url) + "' holds a space, a control byte or a byte outside ASCII",
         {"percent-encode such characters (%20 for a space)"});
  }

  const auto keys = load_signing_keys(opts.private_key, opts.secrets);
  const auto& key = keys.private_key;
  const auto& secrets = keys.secrets;

  const auto random = util::system_random();
  const auto id = opts.id ? *opts.id : webhook::generate_message_id(random);
  const auto timestamp = opts.timestamp ? *opts.timestamp : std::to_string(current_time());
  if (!webhook::parse_timestamp(timestamp)) {
    fail(ErrorCode::usage, "--timestamp '" + http::wire::printable(timestamp) + "' is not unix seconds (digits only)");
  }
  // The same rule every reader applies to a webhook-id: what sign writes, verify reads.
  if (id.find_first_of(" \t") != std::string::npos || id.empty() || !http::validate_header(k_header_id, id)) {
    fail(ErrorCode::usage, "--id must be a non-empty string without whitespace or control bytes, of at most " +
                               std::to_string(k_max_header_line) + " bytes");
  }

  // epilot's webhooks put v1a first, then v1.
  std::string signature;
  if (key) {
    signature = sign_v1a(*key, id, timestamp, request.body);
  }
  for (const auto& secret : secrets) {
    signature += (signature.empty() ? "" : " ") + sign_v1(secret.secret, id, timestamp, request.body);
  }

  if (request.find_header(k_header_content_type) == nullptr) {
    request.headers.push_back(
        http::Header{std::string(k_header_content_type), std::string(content_type_for(request.body))});
  }
  request.headers.push_back(http::Header{std::string(k_header_id), id});
  request.headers.push_back(http::Header{std::string(k_header_timestamp), timestamp});
  request.headers.push_back(http::Header{std::string(k_header_signature), signature});
  for (const auto& header : fixture_headers) {
    request.set_header(header.name, header.value);
  }
  for (const auto& text : opts.headers) {
    auto header = parse_header_flag(text);
    if (util::iequals_ascii(header.name, k_header_id) || util::iequals_ascii(header.name, k_header_timestamp) ||
        util::iequals_ascii(header.name, k_header_signature)) {
      fail(ErrorCode::usage, "-H can't set " + util::to_lower_ascii(header.name),
           {"use --id or --timestamp; the signature is computed"});
    }
    request.set_header(header.name, header.value);
  }

  const auto text =
      opts.format == SignFormat::http
          ? write_raw_http(request)
          : write_capture_json(request, opts.compact ? webhook::JsonStyle::compact : webhook::JsonStyle::pretty);
  write_output(opts.out, text);
  return Outcome::success;
}

}  // namespace

Command register_sign(CLI::App& app) {
  auto opts = std::make_shared<SignOptions>();
  auto* cmd = app.add_subcommand("sign", "Turn a payload into a signed request (a capture)");
  cmd->add_option("payload", opts->payload,
                  "a payload, template or capture file, or - for stdin (default: the built-in custom-action payload)");
  cmd->add_option("--fixture", opts->fixture,
                  "sign a fixture, by name or path (./my.json), placeholders filled (see: epilot-action fixtures)")
      ->type_name("NAME|FILE");
  add_fixtures_flag(*cmd, opts->fixtures_dir);
  cmd->add_option("--set", opts->sets,
                  "set a field of the JSON body: PATH=STRING or PATH:=JSON (data.org_id=123, data.n:=5), repeatable")
      ->allow_extra_args(false)
      ->type_name("PATH=VALUE");
  cmd->add_option("--option", opts->options, "a value for {{option.NAME}} placeholders, NAME=VALUE, repeatable")
      ->allow_extra_args(false)
      ->type_name("NAME=VALUE");
  add_private_key_flag(*cmd, opts->private_key, "Ed25519 private key file (PEM or whsk_): signs v1a");
  add_secret_flags(*cmd, opts->secrets);
  cmd->add_option("--id", opts->id, "webhook-id (default: msg_ + 32 random hex digits)")->type_name("ID");
  cmd->add_option("--timestamp", opts->timestamp, "webhook-timestamp in unix seconds (default: now)")
      ->type_name("UNIX");
  add_url_flag(*cmd, opts->url, "URL recorded in the capture (default: a capture's own, else http://localhost:3000/)");
  cmd->add_option("-X,--method", opts->method,
                  "HTTP method recorded in the capture (default: a capture's own, else POST)")
      ->type_name("METHOD");
  add_header_flag(*cmd, opts->headers, "extra header 'name: value', repeatable (e.g. x-epilot-token)");
  cmd->add_option("-o,--out", opts->out, "write to FILE (atomically) instead of stdout")->type_name("FILE");
  add_format_flag(*cmd, opts->format, {{"json", SignFormat::json}, {"http", SignFormat::http}},
                  "json (a capture) or http (a raw HTTP/1.1 request)");
  cmd->add_flag("--compact", opts->compact, "one-line JSON (for JSON Lines streams)");
  cmd->footer(R"(A file means what it holds. A capture (JSON, JSON Lines, HAR, raw HTTP) is
signed again: its method, URL, headers and body kept, its old signature
replaced. A NAME.request.json is a template with headers. Anything else is a
payload: signed and written byte for byte as read, never parsed or re-encoded
(unless --set asks for a change). A payload or fixture holding {{now}},
{{unix}}, {{uuid}}, {{env.NAME}} or {{option.NAME}} is a template: those are
filled first; other {{...}} text is left as it is. A body that is not JSON is
labelled text/plain (or application/octet-stream), unless -H content-type says
otherwise. With no key named, sign uses the default local keypair (see keygen)
and EPILOT_ACTION_SECRET if set.

Examples:
  $ epilot-action sign > request.json
  $ epilot-action sign payload.json --private-key key.pem --url http://localhost:3000/hook
  $ EPILOT_ACTION_SECRET=whsec_... epilot-action sign payload.json --private-key key.pem
  $ epilot-action sign --secret-file webhook.secret --format http - < body.json
  $ epilot-action sign --fixture wait-for-callback --option callback_post_url=http://127.0.0.1:4000/cb
  $ epilot-action sign --fixture contact-updated --set data.org_id=123
  $ epilot-action sign --fixture ./my-event.json --fixtures ./my-fixtures)");
  return Command{cmd, [opts] { return run_sign(*opts); }};
}

}  // namespace epilot::cli
