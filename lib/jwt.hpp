#pragma once

// Decoding (not verifying) a JWT such as epilot's `x-epilot-token`.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "lib/error.hpp"

namespace epilot {

struct DecodedJwt {
  nlohmann::ordered_json header;
  nlohmann::ordered_json claims;
  std::size_t signature_size = 0;  // bytes
};

// Split `token` into its three base64url parts and decode the first two as
// JSON objects. Nothing is verified: the result says what the token claims.
Result<DecodedJwt> decode_jwt(std::string_view token);

}  // namespace epilot
