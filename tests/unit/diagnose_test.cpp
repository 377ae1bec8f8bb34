#include "lib/diagnose.hpp"

#include <gtest/gtest.h>

namespace epilot {
namespace {

constexpr const char* k_sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

Capture tv_h1(std::vector<Header> headers) {
  Capture c;
  c.method = "POST";
  c.body = R"({"test": 2432232314})";
  c.headers = std::move(headers);
  return c;
}

std::vector<std::string> codes_for(const Capture& c, const VerifyKeys& keys, std::int64_t now) {
  VerifyPolicy policy;
  policy.now = now;
  const auto result = verify_request(c, keys, policy);
  std::vector<std::string> codes;
  for (const auto& r : explain(c, keys, VerifyKeys{}, policy, result)) {
    codes.push_back(r.code);
  }
  return codes;
}

VerifyKeys secret_keys() {
  VerifyKeys keys;
  keys.secrets.push_back({"s", *parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")});
  return keys;
}

TEST(Explain, NothingForAValidRequest) {
  const auto c = tv_h1({{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                        {"webhook-timestamp", "1614265330"},
                        {"webhook-signature", k_sig}});
  EXPECT_TRUE(codes_for(c, secret_keys(), 1614265330).empty());
}

TEST(Explain, SvixHeadersInsteadOfWebhookHeaders) {
  const auto c = tv_h1({{"svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                        {"svix-timestamp", "1614265330"},
                        {"svix-signature", k_sig}});
  EXPECT_EQ(codes_for(c, secret_keys(), 1614265330),
            (std::vector<std::string>{"missing_header", "svix_headers"}));
}

TEST(Explain, SchemeMismatchWhenOnlyAPublicKeyMeetsV1) {
  VerifyKeys keys;
  keys.public_keys.push_back(
      {"k", *parse_public_key("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=")});
  const auto c = tv_h1({{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                        {"webhook-timestamp", "1614265330"},
                        {"webhook-signature", k_sig}});
  EXPECT_EQ(codes_for(c, keys, 1614265330),
            (std::vector<std::string>{"scheme_mismatch"}));
}

TEST(Explain, MalformedSignatureHeaderWhenNoEntryIsUsable) {
  const auto c = tv_h1({{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                        {"webhook-timestamp", "1614265330"},
                        {"webhook-signature", "v1,"}});
  EXPECT_EQ(codes_for(c, secret_keys(), 1614265330),
            (std::vector<std::string>{"malformed_signature_header"}));
}

TEST(Explain, StaleButGenuineSaysSo) {
  const auto c = tv_h1({{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                        {"webhook-timestamp", "1614265330"},
                        {"webhook-signature", k_sig}});
  VerifyPolicy policy;
  policy.now = 1614265330 + 400;
  const auto keys = secret_keys();
  const auto result = verify_request(c, keys, policy);
  const auto reasons = explain(c, keys, VerifyKeys{}, policy, result);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0].code, "timestamp_too_old");
  EXPECT_NE(reasons[0].message.find("400 s"), std::string::npos);
  EXPECT_NE(reasons[0].message.find("signature itself is valid"), std::string::npos);
}

}  // namespace
}  // namespace epilot
