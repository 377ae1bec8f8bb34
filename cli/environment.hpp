#pragma once

// The environment variables the command line reads (lib/ never reads the
// environment, nor names a variable).

#include <string_view>

namespace epilot::cli {

// The prefix of every variable the tool reads; a template may not read them.
inline constexpr std::string_view k_env_own_prefix = "EPILOT_ACTION_";
inline constexpr const char* k_env_secret = "EPILOT_ACTION_SECRET";
inline constexpr const char* k_env_token = "EPILOT_ACTION_TOKEN";        // replay's x-epilot-token
inline constexpr const char* k_env_fixtures = "EPILOT_ACTION_FIXTURES";  // a folder of the user's fixtures
// What the command line reads when the matching option is not given.
inline constexpr const char* k_env_private_key = "EPILOT_ACTION_PRIVATE_KEY";    // the signing key file
inline constexpr const char* k_env_public_key = "EPILOT_ACTION_PUBLIC_KEY";      // a key to verify with
inline constexpr const char* k_env_secret_file = "EPILOT_ACTION_SECRET_FILE";    // a file holding a secret
inline constexpr const char* k_env_token_file = "EPILOT_ACTION_TOKEN_FILE";      // a file holding x-epilot-token
inline constexpr const char* k_env_url = "EPILOT_ACTION_URL";                    // the endpoint
inline constexpr const char* k_env_ca_cert = "EPILOT_ACTION_CA_CERT";            // a CA to trust too
inline constexpr const char* k_env_tolerance = "EPILOT_ACTION_TOLERANCE";        // the clock skew allowed
inline constexpr const char* k_env_key_endpoint = "EPILOT_ACTION_KEY_ENDPOINT";  // epilot's key: which endpoint
inline constexpr const char* k_env_key_url = "EPILOT_ACTION_KEY_URL";            // epilot's key: from this URL
inline constexpr const char* k_env_key_base_url = "EPILOT_ACTION_KEY_BASE_URL";  // epilot's key: another host
inline constexpr const char* k_env_org_id = "EPILOT_ACTION_ORG_ID";              // epilot's key: the organisation
inline constexpr const char* k_env_xdg_config_home = "XDG_CONFIG_HOME";
inline constexpr const char* k_env_xdg_cache_home = "XDG_CACHE_HOME";

}  // namespace epilot::cli
