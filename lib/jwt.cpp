#include "lib/jwt.hpp"

#include "lib/base64.hpp"
#include "lib/bytes.hpp"

namespace epilot {

namespace {

Result<nlohmann::ordered_json> decode_part(std::string_view part, const char* name) {
  const auto bytes = base64url_decode(part);
  if (!bytes) {
    return make_error(ErrorCode::bad_input, std::string("JWT ") + name + " is not base64url");
  }
  try {
    auto doc = nlohmann::ordered_json::parse(as_chars(*bytes));
    if (!doc.is_object()) {
      return make_error(ErrorCode::bad_input, std::string("JWT ") + name + " is not a JSON object");
    }
    return doc;
  } catch (const nlohmann::ordered_json::exception&) {
    return make_error(ErrorCode::bad_input, std::string("JWT ") + name + " is not JSON");
  }
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
  const auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!signature) {
    return make_error(ErrorCode::bad_input, "JWT signature is not base64url");
  }
  return DecodedJwt{std::move(*header), std::move(*claims), signature->size()};
}

}  // namespace epilot
