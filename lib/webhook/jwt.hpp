#pragma once

// Decoding (not verifying) a JWT such as epilot's `x-epilot-token`.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/util/error.hpp"
#include "lib/webhook/keys.hpp"

namespace epilot::webhook {

struct DecodedJwt {
  nlohmann::ordered_json header;
  nlohmann::ordered_json claims;
  std::size_t signature_size = 0;  // bytes
};

// Split `token` into its three base64url parts and decode the first two as
// JSON objects. Nothing is verified: the result says what the token claims.
Result<DecodedJwt> decode_jwt(std::string_view token);

// A JWT signed with Ed25519 (`alg: EdDSA`, RFC 8037), for tokens made up
// locally. `header` gets `alg` and `typ` added.
std::string encode_jwt_eddsa(nlohmann::ordered_json header, const nlohmann::ordered_json& claims,
                             const PrivateKey& key);

// What a mock token sent as `x-epilot-token` holds (replay's): epilot's access-token
// claims (as epilot's access-token service issues them), valid for 600 s from `issued_at`,
// signed by `key`, a throwaway key of the run. It says in its `iss`, `kid`
// and `token_name` that it is not epilot's, so nobody mistakes it for one.
std::string mock_epilot_token(const std::string& org_id, std::int64_t issued_at, const PrivateKey& key);
inline constexpr std::int64_t k_epilot_token_lifetime_seconds = 600;

}  // namespace epilot::webhook
