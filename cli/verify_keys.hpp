#pragma once

// The keys a verifying command (verify, listen) checks requests with: the
// flags that name them, and collecting them, defaults and all.

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cli/epilot_key.hpp"
#include "cli/keysource.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot::cli {

struct VerifyKeyFlags {
  std::vector<std::string> public_keys;
  SecretFlags secrets;
  bool epilot_key = false;
  EpilotKeyFlags epilot;

  bool wants_epilot_key() const {
    return epilot_key || !epilot.url.empty() || !epilot.base_url.empty() || !epilot.org_id.empty() || epilot.offline;
  }
};

// --public-key, --secret, --secret-file, --epilot-key and the --epilot-key-* flags.
void add_verify_key_flags(CLI::App& command, VerifyKeyFlags& flags);

struct KeySet {
  webhook::VerifyKeys keys;   // what the user asked to verify with
  webhook::VerifyKeys other;  // what the tool also knows of, for the wrong_key diagnosis
  std::optional<ObtainedKey> epilot;
};

// The keys named, with epilot's fetched or cached; with none named,
// EPILOT_ACTION_SECRET and the default local public key. Keys known but not
// named (the default keypair, the environment's secret, epilot's cached key)
// go to `other`.
KeySet collect_verify_keys(const VerifyKeyFlags& flags);

// How epilot's key is named in results.
std::string epilot_key_name(const webhook::PublicKey& key);

}  // namespace epilot::cli
