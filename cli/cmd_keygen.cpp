// `epilot-action keygen`: a local Ed25519 keypair, or a whsec_ HMAC secret.

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/keysource.hpp"
#include "cli/output.hpp"
#include "lib/util/file.hpp"
#include "lib/webhook/keys.hpp"

namespace epilot::cli {

namespace {

// --format, of what is printed: pem and whsk are the old spelling of
// --key-format, still taken (see with_key_format).
enum class KeygenFormat { text, json, pem, whsk };

struct KeygenOptions {
  std::string private_key;
  std::string public_key;
  std::string out;
  std::string key_format = "pem";
  KeygenFormat format = KeygenFormat::text;
  bool hmac = false;
  bool force = false;
};

// The `key` event keygen prints with --format json.
void print_key_event(const nlohmann::ordered_json& fields) {
  nlohmann::ordered_json doc{{"event", "key"}};
  for (const auto& [name, value] : fields.items()) {
    doc[name] = value;
  }
  std::printf("%s\n", doc.dump().c_str());
}

Outcome run_hmac(const KeygenOptions& opts) {
  const auto secret = to_whsec(webhook::generate_secret(util::system_random()));
  const bool json = opts.format == KeygenFormat::json;
  if (opts.out.empty() || opts.out == "-") {
    // Asked for on stdout, the secret is the data keygen was run for.
    if (json) {
      print_key_event({{"kind", "hmac"}, {"secret", secret}});
    } else {
      std::printf("%s\n", secret.c_str());
    }
    return Outcome::success;
  }
  take(write_file_atomic(opts.out, secret + "\n", 0600, opts.force ? util::Overwrite::yes : util::Overwrite::no));
  std::fprintf(stderr, "epilot-action: wrote HMAC secret to %s (mode 0600)\n", opts.out.c_str());
  if (json) {
    print_key_event({{"kind", "hmac"}, {"secret_file", opts.out}});
  }
  return Outcome::success;
}

// --format pem|whsk from before --key-format: still honoured, with a warning.
KeygenOptions with_key_format(KeygenOptions opts, bool key_format_given) {
  if (opts.format != KeygenFormat::pem && opts.format != KeygenFormat::whsk) {
    return opts;
  }
  const std::string legacy = opts.format == KeygenFormat::pem ? "pem" : "whsk";
  if (key_format_given) {
    fail(ErrorCode::usage, "--format " + legacy + " can't be combined with --key-format",
         {"--key-format chooses the key files' format; --format text|json the output's"});
  }
  print_warning("--format pem|whsk is now --key-format; --format is the output's format");
  opts.key_format = legacy;
  opts.format = KeygenFormat::text;
  return opts;
}

Outcome run_keygen(const KeygenOptions& opts) {
  if (opts.hmac) {
    if (!opts.private_key.empty() || !opts.public_key.empty()) {
      fail(ErrorCode::usage, "--hmac can't be combined with --private-key or --public-key",
           {"--hmac writes a whsec_ secret to stdout or --out FILE"});
    }
    return run_hmac(opts);
  }
  if (!opts.out.empty()) {
    fail(ErrorCode::usage, "--out is for --hmac; a keypair goes to --private-key and --public-key");
  }
  if (opts.private_key.empty() != opts.public_key.empty()) {
    fail(ErrorCode::usage, "--private-key and --public-key go together",
         {"name both files, or neither to create the default local keypair"});
  }
  const bool use_default = opts.private_key.empty();
  const auto private_path = use_default ? default_private_key_path() : opts.private_key;
  const auto public_path = use_default ? default_public_key_path() : opts.public_key;
  if (util::same_file(private_path, public_path)) {
    fail(ErrorCode::usage, "--private-key and --public-key name the same file");
  }
  const auto overwrite = opts.force ? util::Overwrite::yes : util::Overwrite::no;
  if (overwrite == util::Overwrite::no) {
    for (const auto& path : {private_path, public_path}) {
      if (util::file_exists(path)) {
        fail(ErrorCode::io, path + " already exists; keygen never overwrites a key",
             {"use --force to replace it (anything signed with the old key stops verifying)"});
      }
    }
  }
  if (use_default) {
    take(util::make_directories(config_directory(), 0700));
  }
  const auto key = webhook::generate_private_key(util::system_random());
  const bool pem = opts.key_format == "pem";
  take(write_file_atomic(private_path, pem ? to_pem(key) : to_whsk(key) + "\n", 0600, overwrite));
  auto written =
      write_file_atomic(public_path, pem ? to_pem(key.public_key) : to_whpk(key.public_key) + "\n", 0644, overwrite);
  if (!written) {
    // Never leave half a keypair behind.
    ::unlink(private_path.c_str());
    throw Failure(written.error());
  }
  std::fprintf(stderr, "epilot-action: wrote private key %s (mode 0600) and public key %s\n", private_path.c_str(),
               public_path.c_str());
  if (opts.format == KeygenFormat::json) {
    print_key_event({{"kind", "ed25519"},
                     {"key_format", opts.key_format},
                     {"private_key_file", private_path},
                     {"public_key_file", public_path},
                     {"whpk", to_whpk(key.public_key)},
                     {"fingerprint", fingerprint(key.public_key)}});
  } else {
    std::printf("%s\n", to_whpk(key.public_key).c_str());
  }
  return Outcome::success;
}

}  // namespace

Command register_keygen(CLI::App& app) {
  auto opts = std::make_shared<KeygenOptions>();
  auto* cmd = app.add_subcommand("keygen", "Create an Ed25519 keypair (v1a) or an HMAC secret (v1)");
  cmd->add_option("--private-key", opts->private_key, "where to write the private key (mode 0600)")->type_name("FILE");
  cmd->add_option("--public-key", opts->public_key, "where to write the public key")->type_name("FILE");
  auto* key_format =
      cmd->add_option("--key-format", opts->key_format, "key file format: pem (PKCS#8/SPKI) or whsk (whsk_/whpk_)")
          ->check(one_of({"pem", "whsk"}));
  // pem and whsk are still taken (with a warning), but neither offered nor completed.
  add_choice_flag(*cmd, "--format", opts->format,
                  {{"text", KeygenFormat::text},
                   {"json", KeygenFormat::json},
                   {"pem", KeygenFormat::pem},
                   {"whsk", KeygenFormat::whsk}},
                  "text or json (a key event)")
      ->check(one_of({"text", "json", "pem", "whsk"}).description("{text,json}"));
  cmd->add_flag("--hmac", opts->hmac, "create a whsec_ HMAC secret instead of a keypair");
  cmd->add_option("-o,--out", opts->out, "with --hmac: write the secret to FILE (mode 0600), not stdout")
      ->type_name("FILE");
  cmd->add_flag("-f,--force", opts->force, "replace existing files");
  cmd->footer(R"(With no paths, keygen creates the default local keypair in
$XDG_CONFIG_HOME/epilot-action/ (private-key.pem, public-key.pem), which sign
and verify use when no key is named. It never overwrites a key without --force.
The public key is printed on stdout as whpk_... (with --format json, a key
event with the files written, the whpk_ key and its fingerprint).

Examples:
  $ epilot-action keygen
  $ epilot-action keygen --private-key signing.pem --public-key signing.pub.pem
  $ epilot-action keygen --hmac --out webhook.secret
  $ epilot-action keygen --key-format whsk --private-key k.whsk --public-key k.whpk --format json)");
  return Command{cmd, [opts, key_format] { return run_keygen(with_key_format(*opts, key_format->count() > 0)); }};
}

}  // namespace epilot::cli
