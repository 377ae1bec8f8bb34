#include "cli/keysource.hpp"

#include <cstdlib>

#include "cli/environment.hpp"
#include "cli/flags.hpp"
#include "cli/output.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/file.hpp"
#include "lib/webhook/jwt.hpp"

namespace epilot::cli {

namespace {

std::string octal(int mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

// Errors about a key name the key's origin but never its contents.
Error with_origin(Error error, const std::string& origin) {
  error.message = origin + ": " + error.message;
  return error;
}

// The key file named by `flag` = `path`, read; a value that is a key
// itself (pasted where a file name belongs) is refused without being
// quoted, since the message would print the secret.
std::string read_key_file(const std::string& path, std::string_view flag) {
  if (webhook::looks_like_key_material(path) && !util::file_exists(path)) {
    fail(ErrorCode::usage, std::string(flag) + " takes the name of a file, and the value given looks like a key",
         {"save the key in a file readable by you only (chmod 600) and name that file: a key on the command "
          "line is visible to other users of the machine"});
  }
  return take(util::read_file(path, k_max_key_file_size));
}

}  // namespace

std::string config_directory() {
  const char* xdg = std::getenv(k_env_xdg_config_home);
  if (xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/" + std::string(k_config_subdir);
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    fail(ErrorCode::usage, "neither XDG_CONFIG_HOME nor HOME is set, so there is no default key location",
         {"name the keys explicitly with --private-key / --public-key"});
  }
  return std::string(home) + "/.config/" + std::string(k_config_subdir);
}

std::string default_private_key_path() { return config_directory() + "/" + std::string(k_default_private_key_file); }

std::string default_public_key_path() { return config_directory() + "/" + std::string(k_default_public_key_file); }

webhook::PrivateKey load_private_key(const std::string& path) {
  auto text = read_key_file(path, "--private-key");
  auto key = webhook::parse_private_key(text);
  if (!key) {
    throw Failure(with_origin(key.error(), path));  // not a private key: its mode is beside the point
  }
  const int mode = util::file_mode(path);
  if (mode >= 0 && (mode & 077) != 0) {
    print_warning("private key " + path + " is readable by others (mode " + octal(mode) + "); run: chmod 600 " + path);
  }
  return *key;
}

webhook::NamedPublicKey load_public_key(const std::string& spec) {
  if (spec.rfind(k_prefix_public_key, 0) == 0) {
    auto key = webhook::parse_public_key(spec);
    if (!key) {
      throw Failure(with_origin(key.error(), "--public-key"));
    }
    return webhook::NamedPublicKey{spec.substr(0, 13) + "…", *key};
  }
  if (spec.rfind(k_prefix_private_key, 0) == 0 || spec.rfind(k_prefix_secret, 0) == 0) {
    fail(ErrorCode::usage, "--public-key was given a private key or an HMAC secret, not a public key",
         {"a public key is whpk_... or a PEM file; an HMAC secret goes to --secret-file"});
  }
  auto text = read_key_file(spec, "--public-key");
  auto key = webhook::parse_public_key(text);
  if (!key) {
    throw Failure(with_origin(key.error(), spec));
  }
  return webhook::NamedPublicKey{spec, *key};
}

void add_secret_flags(CLI::App& command, SecretFlags& flags) {
  command
      .add_option("--secret", flags.secrets,
                  "HMAC secret (whsec_...), repeatable; visible to other users via ps, "
                  "prefer --secret-file or " +
                      std::string(k_env_secret))
      ->allow_extra_args(false)
      ->type_name("SECRET");
  command
      .add_option("--secret-file", flags.secret_files,
                  "file holding an HMAC secret (whsec_...), repeatable" + env_note(k_env_secret_file))
      ->allow_extra_args(false)
      ->type_name("FILE");
}

std::vector<webhook::NamedSecret> load_secrets(const SecretFlags& flags, bool use_env) {
  std::vector<webhook::NamedSecret> out;
  for (std::size_t i = 0; i < flags.secrets.size(); ++i) {
    const auto name = "--secret #" + std::to_string(i + 1);
    auto secret = webhook::parse_secret(flags.secrets[i]);
    if (!secret) {
      throw Failure(with_origin(secret.error(), name));
    }
    out.push_back(webhook::NamedSecret{name, *secret});
  }
  for (const auto& path : flags.secret_files) {
    auto secret = webhook::parse_secret(read_key_file(path, "--secret-file"));
    if (!secret) {
      throw Failure(with_origin(secret.error(), path));
    }
    out.push_back(webhook::NamedSecret{path, *secret});
  }
  if (use_env) {
    // Like the flags they stand in for: the file, then the secret itself.
    if (const char* path = std::getenv(k_env_secret_file); path != nullptr && *path != '\0') {
      auto secret = webhook::parse_secret(read_key_file(path, k_env_secret_file));
      if (!secret) {
        throw Failure(with_origin(secret.error(), std::string(k_env_secret_file) + " (" + path + ")"));
      }
      out.push_back(webhook::NamedSecret{path, *secret});
    }
    if (const char* env = std::getenv(k_env_secret); env != nullptr && *env != '\0') {
      auto secret = webhook::parse_secret(env);
      if (!secret) {
        throw Failure(with_origin(secret.error(), k_env_secret));
      }
      out.push_back(webhook::NamedSecret{k_env_secret, *secret});
    }
  }
  return out;
}

std::vector<webhook::NamedSecret> environment_secrets_quietly() {
  try {
    return load_secrets(SecretFlags{}, true);
  } catch (const Failure&) {
    return {};  // only ever used to explain a mismatch: a bad variable is not this run's problem
  }
}

SigningKeys load_signing_keys(const std::string& private_key, const SecretFlags& flags) {
  SigningKeys keys;
  keys.secrets = load_secrets(flags, flags.secrets.empty() && flags.secret_files.empty());
  if (!private_key.empty()) {
    keys.private_key = load_private_key(private_key);
  } else if (keys.secrets.empty()) {
    const auto path = default_private_key_path();
    if (!util::file_exists(path)) {
      fail(ErrorCode::usage, "no signing key: name --private-key or --secret",
           {"or create the default local keypair once: epilot-action keygen"});
    }
    keys.private_key = load_private_key(path);
  }
  return keys;
}

std::string load_token(const std::string& given, const std::string& flag_file) {
  std::string token = given;
  std::string token_file = flag_file;
  std::string file_name = "--token-file " + flag_file;
  if (given.empty() && flag_file.empty()) {
    // The variables stand in for the flags, file first, as the flags do.
    if (const char* path = std::getenv(k_env_token_file); path != nullptr && *path != '\0') {
      token_file = path;
      file_name = std::string(k_env_token_file) + " (" + path + ")";
    }
  }
  if (!token_file.empty()) {
    token = take(util::read_file(token_file, k_max_key_file_size));
  } else if (token.empty()) {
    if (const char* env = std::getenv(k_env_token); env != nullptr) {
      token = env;
    }
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty() && !token_file.empty()) {
    // An empty file is a mistake (a failed export), not a wish to send none.
    fail(ErrorCode::bad_input, file_name + " is empty", {"to send no x-epilot-token, leave out --token-file"});
  }
  if (token.empty()) {
    return token;
  }
  if (!http::validate_header(k_header_epilot_token, token).ok()) {
    fail(ErrorCode::usage, "the x-epilot-token has a line break or NUL in it");
  }
  if (!webhook::decode_jwt(token).ok()) {
    print_warning("the x-epilot-token given is not a JWT; it is sent anyway");
  }
  return token;
}

}  // namespace epilot::cli
