#pragma once

// epilot's public key on the command line: the flags that say where to get
// it, and getting it (cache, network, warnings), for fetch-key and verify.

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "lib/epilot/key_endpoint.hpp"

namespace epilot::cli {

struct EpilotKeyFlags {
  std::string endpoint = "app";  // app | legacy | webhooks
  std::string org_id;
  std::string url;       // any other URL; overrides endpoint
  std::string base_url;  // replaces the endpoint's scheme and host
  std::string ca_cert;
  double timeout = 10;                                   // seconds
  std::int64_t max_age = k_default_key_max_age_seconds;  // seconds
  bool offline = false;
  const CLI::Option* endpoint_option = nullptr;  // whether --endpoint was given, not defaulted
};

// Add the flags; `prefix` is "" for fetch-key and "epilot-key-" for verify,
// where they would otherwise read as flags about the request.
void add_epilot_key_flags(CLI::App& command, EpilotKeyFlags& flags, const std::string& prefix);

// The URL the flags name, with the EPILOT_ACTION_KEY_* variables and
// EPILOT_ACTION_ORG_ID filling what they leave open (and EPILOT_ACTION_CA_CERT).
std::string epilot_key_url(const EpilotKeyFlags& flags);

// The key, as obtain_key gets it, its warnings printed as they come. Fails like
// obtain_key (network: exit 3; a bad answer: exit 2).
ObtainedKey obtain_epilot_key(const EpilotKeyFlags& flags, CacheMode mode);

// $XDG_CACHE_HOME/epilot-action/keys, else ~/.cache/epilot-action/keys;
// nullopt when neither variable is set.
std::optional<std::string> find_key_cache_directory();
// The same, or a usage error.
std::string key_cache_directory();

}  // namespace epilot::cli
