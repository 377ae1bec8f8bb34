#include "lib/webhook/jwt.hpp"

#include "lib/util/base64.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/crypto.hpp"
#include "lib/util/json.hpp"

namespace epilot::webhook {

namespace {

Result<nlohmann::ordered_json> decode_part(std::string_view part, const char* name) {
  const auto bytes = util::base64url_decode(part);
  if (!bytes) {
    return make_error(ErrorCode::bad_input, std::string("JWT ") + name + " is not base64url");
  }
  auto doc = util::parse_json<nlohmann::ordered_json>(util::as_chars(*bytes));
  if (!doc) {
    return make_error(ErrorCode::bad_input, std::string("JWT ") + name + " is not JSON: " + doc.error().message);
  }
  if (!doc->is_object()) {
    return make_error(ErrorCode::bad_input, std::string("JWT ") + name + " is not a JSON object");
  }
  return doc;
}

}  // namespace

Result<DecodedJwt> decode_jwt(std::string_view token) {
  if (token.rfind("Bearer ", 0) == 0) {
    token.remove_prefix(7);
  }
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return make_error(ErrorCode::bad_input, "not a JWT: expected three dot-separated parts");
  }
  auto header = decode_part(token.substr(0, dot1), "header");
  EPILOT_TRY(header);
  auto claims = decode_part(token.substr(dot1 + 1, dot2 - dot1 - 1), "payload");
  EPILOT_TRY(claims);
  const auto signature = util::base64url_decode(token.substr(dot2 + 1));
  if (!signature) {
    return make_error(ErrorCode::bad_input, "JWT signature is not base64url");
  }
  return DecodedJwt{std::move(*header), std::move(*claims), signature->size()};
}

std::string encode_jwt_eddsa(nlohmann::ordered_json header, const nlohmann::ordered_json& claims,
                             const PrivateKey& key) {
  header["alg"] = "EdDSA";
  header["typ"] = "JWT";
  std::string text = util::base64url_encode(header.dump());
  text.append(1, '.').append(util::base64url_encode(claims.dump()));
  const auto signature = util::ed25519_sign(key.seed, key.public_key.bytes, text);
  const auto encoded =
      util::base64url_encode(std::string_view(reinterpret_cast<const char*>(signature.data()), signature.size()));
  text.append(1, '.').append(encoded);
  return text;
}

std::string mock_epilot_token(const std::string& org_id, std::int64_t issued_at, const PrivateKey& key) {
  nlohmann::ordered_json header;
  header["kid"] = "epilot-action-mock";
  nlohmann::ordered_json claims;
  claims["token_id"] = "api_epilotActionMock";
  claims["token_name"] = "epilot-action mock token (not issued by epilot)";
  claims["org_id"] = org_id;
  claims["token_type"] = "app";
  claims["assume_roles"] = nlohmann::ordered_json::array({org_id + ":owner"});
  claims["iss"] = "epilot-action (mock, not epilot)";
  claims["iat"] = issued_at;
  claims["exp"] = issued_at + k_epilot_token_lifetime_seconds;
  return encode_jwt_eddsa(std::move(header), claims, key);
}

}  // namespace epilot::webhook
