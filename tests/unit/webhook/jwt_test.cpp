#include "lib/webhook/jwt.hpp"

#include <gtest/gtest.h>

namespace epilot::webhook {
namespace {

// {"alg":"HS256","typ":"JWT"} . {"sub":"1234567890","name":"John Doe","iat":1516239022}, from RFC 7519 examples' shape
// (jwt.io).
constexpr const char* k_token =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

TEST(DecodeJwt, DecodesHeaderAndClaims) {
  const auto jwt = decode_jwt(k_token);
  ASSERT_TRUE(jwt.ok()) << jwt.error().message;
  EXPECT_EQ(jwt->header["alg"], "HS256");
  EXPECT_EQ(jwt->claims["name"], "John Doe");
  EXPECT_EQ(jwt->claims["iat"], 1516239022);
  EXPECT_EQ(jwt->signature_size, 32u);
  EXPECT_TRUE(decode_jwt(std::string("Bearer ") + k_token).ok());
}

TEST(DecodeJwt, RefusesWhatIsNotAJwt) {
  EXPECT_FALSE(decode_jwt("").ok());
  EXPECT_FALSE(decode_jwt("a.b").ok());
  EXPECT_FALSE(decode_jwt("a.b.c.d").ok());
  EXPECT_FALSE(decode_jwt("!!!.e30.").ok());
  EXPECT_FALSE(decode_jwt("e30.bm90IGpzb24.").ok());  // payload "not json"
  EXPECT_FALSE(decode_jwt("e30.WzFd.").ok());         // payload [1]
  EXPECT_FALSE(decode_jwt("e30=.e30.").ok());         // padded: not base64url
  EXPECT_TRUE(decode_jwt("e30.e30.").ok());           // {} . {} . no signature
}

}  // namespace
}  // namespace epilot::webhook
