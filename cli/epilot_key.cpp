#include "cli/epilot_key.hpp"
#include "cli/wall_clock.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "cli/environment.hpp"
#include "cli/flags.hpp"
#include "cli/keysource.hpp"
#include "cli/output.hpp"
#include "lib/http/url.hpp"
#include "lib/util/file.hpp"

namespace epilot::cli {

void add_epilot_key_flags(CLI::App& command, EpilotKeyFlags& flags, const std::string& prefix) {
  // The variables are read only when epilot's key is fetched, and only for
  // what the command line leaves open (see with_environment).
  flags.endpoint_option = command
                              .add_option("--" + prefix + "endpoint", flags.endpoint,
                                          "which epilot endpoint: app (the App SDK's), legacy or webhooks (per org)" +
                                              env_note(k_env_key_endpoint))
                              ->check(one_of({"app", "legacy", "webhooks"}))
                              ->capture_default_str();
  command
      .add_option("--" + prefix + "org-id", flags.org_id,
                  "organisation id, for the webhooks endpoint" + env_note(k_env_org_id))
      ->type_name("ID");
  command
      .add_option("--" + prefix + "url", flags.url,
                  "fetch the key from this URL instead (staging, a local server)" + env_note(k_env_key_url))
      ->type_name("URL");
  command
      .add_option("--" + prefix + "base-url", flags.base_url,
                  "keep the endpoint's path but use this scheme and host" + env_note(k_env_key_base_url))
      ->type_name("URL");
  command
      .add_option("--ca-cert", flags.ca_cert,
                  "trust this CA certificate (PEM) too, for private servers" + env_note(k_env_ca_cert))
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  add_duration(command, "--" + prefix + "timeout", flags.timeout, "how long a request may take, connecting included",
               {std::chrono::milliseconds(1), std::chrono::hours(1)});
  add_duration(command, "--" + prefix + "max-age", flags.max_age,
               "use a cached key younger than this (0: always fetch)",
               {std::chrono::seconds(0), std::chrono::seconds(100'000'000)});
  command.add_flag("--" + prefix + "offline", flags.offline, "use the cached key only; never touch the network");
}

std::optional<std::string> find_key_cache_directory() {
  const char* xdg = std::getenv(k_env_xdg_cache_home);
  if (xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/" + std::string(k_config_subdir) + "/keys";
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') {
    return std::nullopt;
  }
  return std::string(home) + "/.cache/" + std::string(k_config_subdir) + "/keys";
}

std::string key_cache_directory() {
  auto dir = find_key_cache_directory();
  if (!dir) {
    fail(ErrorCode::usage, "neither XDG_CACHE_HOME nor HOME is set, so keys cannot be cached");
  }
  return *dir;
}

namespace {

std::string variable(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// The flags with the variables filled in where the command line leaves them
// open: a URL only when nothing on the line says where the key is, an
// endpoint or base URL only when no URL is named, an organisation only for
// the webhooks endpoint. So a variable meant for one command, or one mode,
// never contradicts the flags given to another.
EpilotKeyFlags with_environment(EpilotKeyFlags flags) {
  const bool endpoint_given = flags.endpoint_option != nullptr && flags.endpoint_option->count() > 0;
  const bool where_given = endpoint_given || !flags.url.empty() || !flags.base_url.empty() || !flags.org_id.empty();
  if (!where_given) {
    flags.url = variable(k_env_key_url);
  }
  if (flags.url.empty()) {
    if (const auto endpoint = variable(k_env_key_endpoint); !endpoint_given && !endpoint.empty()) {
      if (endpoint != "app" && endpoint != "legacy" && endpoint != "webhooks") {
        fail(ErrorCode::usage,
             std::string(k_env_key_endpoint) + " must be app, legacy or webhooks, not '" + endpoint + "'");
      }
      flags.endpoint = endpoint;
    }
    if (flags.base_url.empty()) {
      flags.base_url = variable(k_env_key_base_url);
    }
    if (flags.org_id.empty() && flags.endpoint == "webhooks") {
      flags.org_id = variable(k_env_org_id);
    }
  }
  if (flags.ca_cert.empty()) {
    flags.ca_cert = variable(k_env_ca_cert);
    if (!flags.ca_cert.empty() && !util::file_exists(flags.ca_cert)) {
      fail(ErrorCode::usage, std::string(k_env_ca_cert) + " names " + flags.ca_cert + ", which does not exist");
    }
  }
  return flags;
}

std::string key_url(const EpilotKeyFlags& flags) {
  if (!flags.url.empty()) {
    if (!flags.org_id.empty() || !flags.base_url.empty()) {
      fail(ErrorCode::usage, "--url names the whole URL; it can't be combined with --org-id or --base-url");
    }
    take(http::parse_url(flags.url));
    return flags.url;
  }
  const auto endpoint = flags.endpoint == "legacy"     ? KeyEndpoint::legacy
                        : flags.endpoint == "webhooks" ? KeyEndpoint::webhooks
                                                       : KeyEndpoint::app;
  return take(key_endpoint_url(endpoint, flags.org_id, flags.base_url));
}

// `word` as a shell reads it back: quoted unless it is plainly one word.
std::string shell_word(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_-./:=@%+,").find(c) != std::string_view::npos;
  });
  if (plain) {
    return word;
  }
  std::string out = "'";
  for (char c : word) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// The fetch-key command that caches the key these flags name, whichever
// command they were given to (fetch-key's flags have no prefix).
std::string fetch_key_command(const EpilotKeyFlags& flags) {
  std::string command = "epilot-action fetch-key";
  const auto add = [&](const char* flag, const std::string& value) {
    if (!value.empty()) {
      command.append(" ").append(flag).append(" ").append(shell_word(value));
    }
  };
  if (!flags.url.empty()) {
    add("--url", flags.url);
  } else {
    add("--endpoint", flags.endpoint == "app" ? std::string() : flags.endpoint);
    add("--org-id", flags.org_id);
    add("--base-url", flags.base_url);
  }
  add("--ca-cert", flags.ca_cert);
  return command;
}

// The lib says what failed; this adds what to do, in terms of the flags.
Error with_hints(Error error, const EpilotKeyFlags& flags) {
  if (flags.offline && error.code == ErrorCode::usage && error.message.rfind("no key for ", 0) == 0) {
    error.hints.push_back("fetch it once while online: " + fetch_key_command(flags));
  } else if (error.code == ErrorCode::untrusted) {
    error.hints.push_back("for a server with a private CA, pass --ca-cert FILE");
  }
  return error;
}

}  // namespace

std::string epilot_key_url(const EpilotKeyFlags& given) { return key_url(with_environment(given)); }

ObtainedKey obtain_epilot_key(const EpilotKeyFlags& given, CacheMode mode) {
  const auto flags = with_environment(given);
  KeyRequest request;
  request.url = key_url(flags);
  request.cache_dir = key_cache_directory();
  request.max_age = flags.max_age;
  request.mode = flags.offline ? CacheMode::offline : mode;
  request.retry.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  request.warn = [](const std::string& message) { print_warning(message); };
  http::HttpOptions options;
  options.ca_cert = flags.ca_cert;
  options.timeout = std::chrono::milliseconds(std::llround(flags.timeout * 1000));
  const auto http = make_http_client(options);
  auto key = obtain_key(*http, request, current_time());
  if (!key) {
    throw Failure(with_hints(key.error(), flags));
  }
  return *key;
}

}  // namespace epilot::cli
