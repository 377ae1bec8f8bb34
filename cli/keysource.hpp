#pragma once

// Where keys come from on the command line: files, literals, the environment
// and the default local keypair. Shared by every command that takes keys.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/webhook/keys.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot::cli {

// The config directory: $XDG_CONFIG_HOME/epilot-action, else ~/.config/epilot-action.
std::string config_directory();
std::string default_private_key_path();
std::string default_public_key_path();

// Read a private key file, warning when group or others can read it.
webhook::PrivateKey load_private_key(const std::string& path);

// `spec` is `whpk_...` or the path of a PEM (or whpk_) file.
webhook::NamedPublicKey load_public_key(const std::string& spec);

// The HMAC secret flags every signing or verifying command has.
struct SecretFlags {
  std::vector<std::string> secrets;       // --secret (visible to `ps`; prefer the others)
  std::vector<std::string> secret_files;  // --secret-file
};
void add_secret_flags(CLI::App& command, SecretFlags& flags);

// Secrets from the flags, in order; then, when `use_env` (no secret flag was
// given), EPILOT_ACTION_SECRET_FILE's and EPILOT_ACTION_SECRET.
std::vector<webhook::NamedSecret> load_secrets(const SecretFlags& flags, bool use_env);
// The variables' secrets, or none when one is bad: for diagnosis only.
std::vector<webhook::NamedSecret> environment_secrets_quietly();

// The keys a signing command uses: --private-key and the secrets named;
// with none named, the default local keypair (and EPILOT_ACTION_SECRET).
struct SigningKeys {
  std::optional<webhook::PrivateKey> private_key;
  std::vector<webhook::NamedSecret> secrets;
};
SigningKeys load_signing_keys(const std::string& private_key, const SecretFlags& flags);

// The x-epilot-token to send: `given` (--token), else the file, else
// EPILOT_ACTION_TOKEN_FILE, else EPILOT_ACTION_TOKEN; empty for none. Warns when it is not a JWT.
std::string load_token(const std::string& given, const std::string& token_file);

}  // namespace epilot::cli
