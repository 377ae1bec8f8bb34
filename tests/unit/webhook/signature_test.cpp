#include "lib/webhook/signature.hpp"

#include <gtest/gtest.h>

namespace epilot::webhook {
namespace {

constexpr std::string_view k_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::string_view k_ts = "1614265330";
constexpr std::string_view k_body = R"({"test": 2432232314})";

Secret tv_h1_secret() { return *parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); }

Capture request_with(std::string_view signature, std::string_view timestamp = k_ts) {
  Capture c;
  c.method = "POST";
  c.body = std::string(k_body);
  c.headers = {{"Webhook-Id", std::string(k_id)},
               {"WEBHOOK-TIMESTAMP", std::string(timestamp)},
               {"webhook-signature", std::string(signature)}};
  return c;
}

VerifyPolicy at(std::int64_t now) {
  VerifyPolicy p;
  p.now = now;
  return p;
}

TEST(SignedContent, JoinsWithFullStops) {
  EXPECT_EQ(signed_content("a", "1", "{}"), "a.1.{}");
  EXPECT_EQ(signed_content("a", "01", ""), "a.01.");
}

TEST(GenerateMessageId, IsMsgAnd32LowercaseHex) {
  std::uint8_t next = 0xa0;
  const auto id = generate_message_id([&](std::uint8_t* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = next++;
    }
  });
  EXPECT_EQ(id, "msg_a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
}

TEST(ParseSignatureHeader, ClassifiesEveryEntry) {
  const auto entries =
      parse_signature_header("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=  v2,abc nocomma v1,!!!! v1a,AAAA v1s,");
  ASSERT_EQ(entries.size(), 6u);
  EXPECT_EQ(entries[0].status, EntryStatus::ok);
  EXPECT_EQ(entries[0].scheme, Scheme::hmac);
  EXPECT_EQ(entries[1].status, EntryStatus::unknown_version);
  EXPECT_EQ(entries[2].status, EntryStatus::no_comma);
  EXPECT_EQ(entries[3].status, EntryStatus::bad_base64);
  EXPECT_EQ(entries[4].status, EntryStatus::wrong_length);
  EXPECT_EQ(entries[5].status, EntryStatus::wrong_length);  // "" decodes to 0 bytes
}

TEST(ParseSignatureHeader, SplitsOnTheFirstCommaOnly) {
  const auto entries = parse_signature_header("v1,a,b");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].encoded, "a,b");
  EXPECT_EQ(entries[0].status, EntryStatus::bad_base64);
}

TEST(VerifyRequest, HeaderNamesAreCaseInsensitive) {
  VerifyKeys keys;
  keys.secrets.push_back({"s", tv_h1_secret()});
  const auto result =
      verify_request(request_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), keys, at(1614265330));
  EXPECT_EQ(result.verdict, Verdict::valid);
  ASSERT_TRUE(result.match.has_value());
  EXPECT_EQ(result.match->key_name, "s");
}

TEST(VerifyRequest, SignsTheTimestampStringAsReceived) {
  // "01614265330" is the same number, but a different signed string.
  VerifyKeys keys;
  keys.secrets.push_back({"s", tv_h1_secret()});
  const auto sig = sign_v1(tv_h1_secret(), k_id, "01614265330", k_body);
  EXPECT_EQ(verify_request(request_with(sig, "01614265330"), keys, at(1614265330)).verdict, Verdict::valid);
  EXPECT_EQ(verify_request(request_with(sig), keys, at(1614265330)).verdict, Verdict::signature_mismatch);
}

TEST(VerifyRequest, ChecksTheSignatureEvenWhenTheTimestampFails) {
  VerifyKeys keys;
  keys.secrets.push_back({"s", tv_h1_secret()});
  const auto result =
      verify_request(request_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), keys, at(1614265330 + 1000));
  EXPECT_EQ(result.verdict, Verdict::timestamp_too_old);
  EXPECT_TRUE(result.match.has_value());
  EXPECT_EQ(result.age, 1000);
}

TEST(VerifyRequest, SkipTimestampCheckIgnoresAge) {
  VerifyKeys keys;
  keys.secrets.push_back({"s", tv_h1_secret()});
  auto policy = at(1);
  policy.timestamp_check = TimestampCheck::skip;
  EXPECT_EQ(verify_request(request_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), keys, policy).verdict,
            Verdict::valid);
}

TEST(VerifyRequest, CustomToleranceIsInclusive) {
  VerifyKeys keys;
  keys.secrets.push_back({"s", tv_h1_secret()});
  auto policy = at(1614265330 + 10);
  policy.tolerance = 10;
  const auto req = request_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_EQ(verify_request(req, keys, policy).verdict, Verdict::valid);
  policy.now += 1;
  EXPECT_EQ(verify_request(req, keys, policy).verdict, Verdict::timestamp_too_old);
}

TEST(VerifyRequest, RepeatedHeaderIsMalformed) {
  VerifyKeys keys;
  keys.secrets.push_back({"s", tv_h1_secret()});
  auto req = request_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  req.headers.push_back({"webhook-id", "msg_other"});
  const auto result = verify_request(req, keys, at(1614265330));
  EXPECT_EQ(result.verdict, Verdict::malformed_header);
  EXPECT_EQ(result.problem_header, "webhook-id");
}

TEST(VerifyRequest, NoKeysNeverVerifies) {
  const auto result =
      verify_request(request_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), VerifyKeys{}, at(1614265330));
  EXPECT_EQ(result.verdict, Verdict::signature_mismatch);
}

TEST(SignV1a, IsDeterministicAndVerifies) {
  const auto key = *parse_private_key("whsk_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=");
  const auto sig = sign_v1a(key, k_id, k_ts, k_body);
  EXPECT_EQ(sig, sign_v1a(key, k_id, k_ts, k_body));
  VerifyKeys keys;
  keys.public_keys.push_back({"k", key.public_key});
  EXPECT_EQ(verify_request(request_with(sig), keys, at(1614265330)).verdict, Verdict::valid);
}

TEST(ParseTimestamp, DigitsOnlyAndBounded) {
  EXPECT_EQ(parse_timestamp("0"), 0);
  EXPECT_EQ(parse_timestamp("1749649159"), 1749649159);
  EXPECT_EQ(parse_timestamp("999999999999999999"), 999999999999999999);
  EXPECT_FALSE(parse_timestamp("9999999999999999999"));
  EXPECT_FALSE(parse_timestamp(""));
  EXPECT_FALSE(parse_timestamp(" 1"));
  EXPECT_FALSE(parse_timestamp("+1"));
  EXPECT_FALSE(parse_timestamp("1e9"));
}

VerifyKeys secret_only() {
  VerifyKeys keys;
  keys.secrets.push_back({"s", tv_h1_secret()});
  return keys;
}

std::vector<std::string_view> outcomes_of(const Capture& c, const VerifyKeys& keys) {
  return entry_outcomes(verify_request(c, keys, at(1614265330)), keys);
}

TEST(EntryOutcomes, NameWhatBecameOfEachEntry) {
  const std::string good = sign_v1(tv_h1_secret(), k_id, k_ts, k_body);
  const std::string other = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  const std::string v1a = "v1a," + std::string(86, 'A') + "==";
  const auto c = request_with(other + " " + good + " " + v1a + " v9,x v1,!! bare v1,AAAA");
  EXPECT_EQ(outcomes_of(c, secret_only()),
            (std::vector<std::string_view>{"not_verified", "verified", "not_tried", "unknown_version", "bad_base64",
                                           "no_version", "wrong_length"}));
  auto tampered = c;
  tampered.body = "{}";
  EXPECT_EQ(outcomes_of(tampered, secret_only()),
            (std::vector<std::string_view>{"not_verified", "not_verified", "no_key", "unknown_version", "bad_base64",
                                           "no_version", "wrong_length"}));
  auto unchecked = c;
  unchecked.set_header("webhook-timestamp", "soon");
  EXPECT_EQ(outcomes_of(unchecked, secret_only())[1], "not_checked");
}

// A body logged parsed cannot verify, but whether its compact form would is kept.
TEST(VerifyRequest, ABodyLoggedParsedNeverVerifies) {
  auto c = request_with(sign_v1(tv_h1_secret(), k_id, k_ts, k_body));
  c.body_parsed = true;
  const auto result = verify_request(c, secret_only(), at(1614265330));
  EXPECT_EQ(result.verdict, Verdict::body_parsed);
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.match.has_value());
  EXPECT_EQ(to_code(result.verdict), "body_parsed");
}

}  // namespace
}  // namespace epilot::webhook
