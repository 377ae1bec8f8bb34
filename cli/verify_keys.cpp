#include "cli/verify_keys.hpp"

#include "cli/environment.hpp"
#include "cli/flags.hpp"
#include "cli/output.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"

namespace epilot::cli {

void add_verify_key_flags(CLI::App& command, VerifyKeyFlags& flags) {
  from_environment(
      command,
      command.add_option("--public-key", flags.public_keys, "Ed25519 public key: a PEM file or whpk_..., repeatable")
          ->allow_extra_args(false)
          ->type_name("KEY"),
      k_env_public_key);
  add_secret_flags(command, flags.secrets);
  command.add_flag("--epilot-key", flags.epilot_key,
                   "verify with epilot's public key, fetched over HTTPS and cached (see fetch-key)");
  add_epilot_key_flags(command, flags.epilot, "epilot-key-");
}

std::string epilot_key_name(const webhook::PublicKey& key) {
  return "epilot's key (" + fingerprint(key).substr(0, 19) + "…)";
}

KeySet collect_verify_keys(const VerifyKeyFlags& opts) {
  KeySet set;
  if (opts.wants_epilot_key()) {
    set.epilot = obtain_epilot_key(opts.epilot, CacheMode::normal);
    set.keys.public_keys.push_back({epilot_key_name(set.epilot->key), set.epilot->key});
  } else if (const auto dir = find_key_cache_directory()) {
    // Not asked for, but it names the cause when it is the key that verifies.
    if (auto cached = read_cache_entry(cache_path(*dir, std::string(k_key_url_app))); cached && *cached) {
      set.other.public_keys.push_back({"epilot's cached key (" + std::string(k_key_url_app) + ")", (*cached)->key});
    }
  }
  const bool secrets_named = !opts.secrets.secrets.empty() || !opts.secrets.secret_files.empty();
  set.keys.secrets = load_secrets(opts.secrets, !secrets_named);
  for (const auto& spec : opts.public_keys) {
    set.keys.public_keys.push_back(load_public_key(spec));
  }
  const auto default_path = default_public_key_path();
  const bool have_default = util::file_exists(default_path);
  if (set.keys.public_keys.empty() && set.keys.secrets.empty()) {
    if (!have_default) {
      fail(ErrorCode::usage, "no key to verify with: name --public-key, --secret or --epilot-key",
           {"requests from epilot: --epilot-key (fetches and caches epilot's public key)",
            "your own test requests: create the default local keypair once with: epilot-action keygen"});
    }
    auto key = load_public_key(default_path);
    // Named with its path: a message about it must say which file was used.
    key.name = "the default local public key (" + default_path + ")";
    set.keys.public_keys.push_back(std::move(key));
  } else if (have_default) {
    // Keys that were not asked for but explain a mismatch when they match.
    auto key = load_public_key(default_path);
    key.name = "the default local public key (" + default_path + ")";
    set.other.public_keys.push_back(std::move(key));
  }
  if (secrets_named) {
    set.other.secrets = environment_secrets_quietly();
  }
  return set;
}

}  // namespace epilot::cli
