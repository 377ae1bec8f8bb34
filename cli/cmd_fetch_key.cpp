// `epilot-action fetch-key`: epilot's public key over HTTPS, checked, cached, pinned.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/epilot_key.hpp"
#include "cli/flags.hpp"
#include "cli/input_output.hpp"
#include "cli/keysource.hpp"
#include "cli/wall_clock.hpp"
#include "lib/util/base64.hpp"
#include "lib/util/timefmt.hpp"

namespace epilot::cli {

namespace {

// --format: how the key is written.
enum class KeyOutput { pem, whpk, json, jwk };

struct FetchKeyOptions {
  EpilotKeyFlags key;
  bool refresh = false;
  KeyOutput format = KeyOutput::pem;
  std::string out;
  std::string expect_fingerprint;
};

std::string base64url(const util::Ed25519Public& raw) {
  auto text = util::base64_encode(util::Bytes(raw.begin(), raw.end()));
  for (auto& c : text) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  while (!text.empty() && text.back() == '=') {
    text.pop_back();
  }
  return text;
}

std::string render(const FetchKeyOptions& opts, const ObtainedKey& key, const std::string& url) {
  if (opts.format == KeyOutput::whpk) {
    return to_whpk(key.key) + "\n";
  }
  if (opts.format == KeyOutput::jwk) {
    nlohmann::ordered_json jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url(key.key.bytes)}, {"use", "sig"}};
    return jwk.dump(2) + "\n";
  }
  if (opts.format == KeyOutput::json) {
    // A `key` event, one line, like every command's JSON output.
    nlohmann::ordered_json doc;
    doc["event"] = "key";
    doc["public_key"] = to_pem(key.key);
    doc["algorithm"] = "ed25519";
    doc["fingerprint"] = fingerprint(key.key);
    doc["whpk"] = to_whpk(key.key);
    doc["url"] = url;
    doc["fetched_at"] = key.fetched_at;
    doc["source"] = key.source == KeySource::network ? "network"
                    : key.source == KeySource::cache ? "cache"
                                                     : "stale_cache";
    if (key.replaced) {
      doc["replaced_fingerprint"] = fingerprint(*key.replaced);
    }
    return doc.dump() + "\n";
  }
  return to_pem(key.key);
}

Outcome run_fetch_key(const FetchKeyOptions& opts) {
  if (opts.refresh && opts.key.offline) {
    fail(ErrorCode::usage, "--refresh can't be combined with --offline");
  }
  // A malformed pin is caught before the network is touched.
  const auto pinned =
      opts.expect_fingerprint.empty() ? std::string() : take(webhook::parse_fingerprint(opts.expect_fingerprint));
  const auto url = epilot_key_url(opts.key);
  const auto key = obtain_epilot_key(opts.key, opts.refresh ? CacheMode::refresh : CacheMode::normal);
  const auto print = fingerprint(key.key);
  const auto where = key.source == KeySource::network
                         ? "fetched from " + url
                         : "cached " + util::describe_duration(current_time() - key.fetched_at) + " ago";
  std::fprintf(stderr, "epilot-action: key %s (%s)\n", print.c_str(), where.c_str());
  if (!pinned.empty() && pinned != print) {
    print_error(make_error(ErrorCode::bad_key,
                           "the key does not match the pinned fingerprint: expected " + pinned + ", got " + print,
                           {"if epilot rotated its key, check the new one out of band, then pin " + print}));
    return Outcome::check_failed;
  }
  const auto text = render(opts, key, url);
  write_output(opts.out, text);
  return Outcome::success;
}

}  // namespace

Command register_fetch_key(CLI::App& app) {
  auto opts = std::make_shared<FetchKeyOptions>();
  auto* cmd = app.add_subcommand("fetch-key", "Fetch epilot's public key over HTTPS, check it, cache it, print it");
  add_epilot_key_flags(*cmd, opts->key, "");
  cmd->add_flag("--refresh", opts->refresh, "fetch even if a fresh key is cached");
  add_format_flag(
      *cmd, opts->format,
      {{"pem", KeyOutput::pem}, {"whpk", KeyOutput::whpk}, {"json", KeyOutput::json}, {"jwk", KeyOutput::jwk}},
      "pem, whpk, json or jwk");
  cmd->add_option("-o,--out", opts->out, "write to FILE (atomically) instead of stdout")->type_name("FILE");
  cmd->add_option("--expect-fingerprint", opts->expect_fingerprint,
                  "fail (exit 1) unless the key's fingerprint is this (SHA256:... ; the prefix may be left out)")
      ->type_name("FINGERPRINT");
  cmd->footer(R"(Keys are cached per URL under $XDG_CACHE_HOME/epilot-action/keys for
--max-age (a day by default). When the network fails, a cached key of any age is used,
with a warning. A key that differs from the cached one is reported.

Examples:
  $ epilot-action fetch-key > epilot.pem
  $ epilot-action fetch-key --endpoint webhooks --org-id 739224 --format whpk
  $ epilot-action fetch-key --expect-fingerprint SHA256:pBNhWYV4iJhGdgn2rTBmrAYX6xGUMdQQEKQ6I07SJTg
  $ epilot-action fetch-key --url https://cdn.app.dev.sls.epilot.io/v1/.well-known/public-key)");
  return Command{cmd, [opts] { return run_fetch_key(*opts); }};
}

}  // namespace epilot::cli
