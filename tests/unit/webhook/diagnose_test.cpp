#include "lib/webhook/diagnose.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace epilot::webhook {
namespace {

constexpr const char* k_sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

Capture tv_h1(std::vector<http::Header> headers) {
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
    codes.push_back(std::string(to_code(r.code)));
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

// nlohmann stops reading at a NUL, so the signed body re-encoded "matched"
// a body that differs from it by a NUL: no re-serialisation happened.
TEST(Explain, ATrailingNulIsNotAReSerialisation) {
  auto c = tv_h1({{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                  {"webhook-timestamp", "1614265330"},
                  {"webhook-signature", k_sig}});
  c.body.push_back('\0');
  const auto codes = codes_for(c, secret_keys(), 1614265330);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "body_reserialized"), 0) << codes[0];
}

TEST(Explain, ABodyTooDeepToReEncodeSaysSo) {
  auto c = tv_h1({{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                  {"webhook-timestamp", "1614265330"},
                  {"webhook-signature", k_sig}});
  c.body = std::string(20000, '[') + std::string(20000, ']');
  const auto codes = codes_for(c, secret_keys(), 1614265330);
  EXPECT_EQ(codes, (std::vector<std::string>{"signature_mismatch", "diagnosis_limited"}));
}

TEST(Explain, AnEntryWithoutACommaIsQuotedAsWritten) {
  auto c = tv_h1({{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                  {"webhook-timestamp", "1614265330"},
                  {"webhook-signature", "v1a"}});
  VerifyPolicy policy;
  policy.now = 1614265330;
  const auto result = verify_request(c, secret_keys(), policy);
  const auto reasons = explain(c, secret_keys(), VerifyKeys{}, policy, result);
  ASSERT_FALSE(reasons.empty());
  EXPECT_NE(reasons[0].message.find("'v1a' "), std::string::npos) << reasons[0].message;
  EXPECT_EQ(reasons[0].message.find("',v1a'"), std::string::npos) << reasons[0].message;
}

TEST(Explain, SvixHeadersInsteadOfWebhookHeaders) {
  const auto c =
      tv_h1({{"svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"}, {"svix-timestamp", "1614265330"}, {"svix-signature", k_sig}});
  EXPECT_EQ(codes_for(c, secret_keys(), 1614265330), (std::vector<std::string>{"svix_headers", "missing_header"}));
  VerifyPolicy policy;
  policy.now = 1614265330;
  const auto reasons = explain(c, secret_keys(), {}, policy, verify_request(c, secret_keys(), policy));
  EXPECT_NE(reasons[0].message.find("read as webhook-* headers, it verifies (v1 under s)"), std::string::npos)
      << reasons[0].message;
}

TEST(Explain, SvixHeadersThatDoNotVerifyEitherSayWhy) {
  auto c =
      tv_h1({{"svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"}, {"svix-timestamp", "1614265330"}, {"svix-signature", k_sig}});
  EXPECT_EQ(codes_for(c, secret_keys(), 1614265330 + 400),
            (std::vector<std::string>{"svix_headers", "missing_header", "timestamp_too_old"}));
  // Other svix-* headers alone cannot be read as webhook-*: only named.
  c.headers = {{"svix-event", "x"}};
  EXPECT_EQ(codes_for(c, secret_keys(), 1614265330), (std::vector<std::string>{"missing_header", "svix_headers"}));
}

TEST(Explain, SchemeMismatchWhenOnlyAPublicKeyMeetsV1) {
  VerifyKeys keys;
  keys.public_keys.push_back({"k", *parse_public_key("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=")});
  const auto c = tv_h1({{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                        {"webhook-timestamp", "1614265330"},
                        {"webhook-signature", k_sig}});
  EXPECT_EQ(codes_for(c, keys, 1614265330), (std::vector<std::string>{"scheme_mismatch"}));
}

TEST(Explain, MalformedSignatureHeaderWhenNoEntryIsUsable) {
  const auto c = tv_h1({{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                        {"webhook-timestamp", "1614265330"},
                        {"webhook-signature", "v1,"}});
  EXPECT_EQ(codes_for(c, secret_keys(), 1614265330), (std::vector<std::string>{"malformed_signature_header"}));
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
  EXPECT_EQ(reasons[0].code, ReasonCode::timestamp_too_old);
  EXPECT_NE(reasons[0].message.find("400 s"), std::string::npos);
  EXPECT_NE(reasons[0].message.find("signature itself is valid"), std::string::npos);
}

}  // namespace
}  // namespace epilot::webhook

namespace epilot::webhook {
namespace {

// One test per reason code, each producing it the way it happens in practice.

constexpr const char* k_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr const char* k_ts = "1614265330";

Capture signed_request(const std::string& signed_body, const std::string& sent_body, const Secret& secret) {
  Capture c;
  c.method = "POST";
  c.body = sent_body;
  c.headers = {{"webhook-id", k_id},
               {"webhook-timestamp", k_ts},
               {"webhook-signature", sign_v1(secret, k_id, k_ts, signed_body)}};
  return c;
}

std::vector<std::string> codes(const Capture& c, const VerifyKeys& keys, const VerifyKeys& other = {}) {
  VerifyPolicy policy;
  policy.now = 1614265330;
  const auto result = verify_request(c, keys, policy);
  std::vector<std::string> out;
  for (const auto& r : explain(c, keys, other, policy, result)) {
    out.push_back(std::string(to_code(r.code)));
  }
  return out;
}

std::vector<std::string> codes_at(const Capture& c, const VerifyKeys& keys, const VerifyPolicy& policy) {
  std::vector<std::string> out;
  for (const auto& r : explain(c, keys, {}, policy, verify_request(c, keys, policy))) {
    out.push_back(std::string(to_code(r.code)));
  }
  return out;
}

TEST(ExplainCodes, BodyReserializedNamesTheEncoding) {
  const auto keys = secret_keys();
  const auto& secret = keys.secrets[0].secret;
  // Signed compact (as JSON.stringify sends), received pretty (a framework re-encoded it).
  const std::string compact = R"({"a":1,"b":["x","ü"],"c":{}})";
  const std::string pretty = "{\n  \"a\": 1,\n  \"b\": [\n    \"x\",\n    \"ü\"\n  ],\n  \"c\": {}\n}";
  auto c = signed_request(compact, pretty, secret);
  VerifyPolicy policy;
  policy.now = 1614265330;
  const auto reasons = explain(c, keys, {}, policy, verify_request(c, keys, policy));
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons[0].code, ReasonCode::body_reserialized);
  EXPECT_NE(reasons[0].message.find("compact JSON"), std::string::npos) << reasons[0].message;
  // Signed pretty, received compact.
  EXPECT_EQ(codes(signed_request(pretty, compact, secret), keys)[0], "body_reserialized");
  // Signed with Python's separators and ASCII escapes (TV-H1 style), received compact.
  const std::string python = R"({"a": 1, "b": ["x", "\u00fc"], "c": {}})";
  EXPECT_EQ(codes(signed_request(python, compact, secret), keys)[0], "body_reserialized");
}

TEST(ExplainCodes, TrailingNewlineAndLineEndings) {
  const auto keys = secret_keys();
  const auto& secret = keys.secrets[0].secret;
  EXPECT_EQ(codes(signed_request("body\n", "body", secret), keys)[0], "trailing_newline");
  EXPECT_EQ(codes(signed_request("body", "body\n", secret), keys)[0], "trailing_newline");
  EXPECT_EQ(codes(signed_request("a\r\nb", "a\nb", secret), keys)[0], "line_endings_changed");
  EXPECT_EQ(codes(signed_request("a\nb", "a\r\nb", secret), keys)[0], "line_endings_changed");
}

TEST(ExplainCodes, WrongKeyNamesTheKeyThatMatches) {
  const auto signer = *parse_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
  VerifyKeys other;
  other.secrets.push_back({"EPILOT_ACTION_SECRET", signer});
  const auto c = signed_request("x", "x", signer);
  VerifyPolicy policy;
  policy.now = 1614265330;
  const auto keys = secret_keys();
  const auto reasons = explain(c, keys, other, policy, verify_request(c, keys, policy));
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons[0].code, ReasonCode::wrong_key);
  EXPECT_NE(reasons[0].message.find("EPILOT_ACTION_SECRET"), std::string::npos);
}

TEST(ExplainCodes, SecretFormatWhenTheTextWasTheKey) {
  // The sender used the whole "whsec_..." string as the HMAC key.
  const std::string text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const Secret as_text{util::Bytes(text.begin(), text.end()), text};
  EXPECT_EQ(codes(signed_request("x", "x", as_text), secret_keys())[0], "secret_format");
  // Or the text after the prefix.
  const std::string bare = text.substr(6);
  const Secret bare_text{util::Bytes(bare.begin(), bare.end()), bare};
  EXPECT_EQ(codes(signed_request("x", "x", bare_text), secret_keys())[0], "secret_format");
}

TEST(ExplainCodes, SignatureMismatchWhenNothingExplainsIt) {
  const auto stranger = *parse_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
  EXPECT_EQ(codes(signed_request("x", "x", stranger), secret_keys()), (std::vector<std::string>{"signature_mismatch"}));
}

TEST(ExplainCodes, SkippedEntriesComeAfterTheCause) {
  const auto stranger = *parse_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
  auto c = signed_request("x", "x", stranger);
  c.set_header("webhook-signature", *c.find_header("webhook-signature") + " v1,!!");
  EXPECT_EQ(codes(c, secret_keys()), (std::vector<std::string>{"signature_mismatch", "skipped_entries"}));
}

TEST(ExplainCodes, HeaderProblems) {
  auto c = signed_request("x", "x", secret_keys().secrets[0].secret);
  c.set_header("webhook-timestamp", "12:00");
  EXPECT_EQ(codes(c, secret_keys()), (std::vector<std::string>{"malformed_header"}));
  c.set_header("webhook-timestamp", "");
  EXPECT_EQ(codes(c, secret_keys()), (std::vector<std::string>{"missing_header"}));
}

TEST(ExplainCodes, TimestampInMilliseconds) {
  const auto keys = secret_keys();
  auto c = signed_request("x", "x", keys.secrets[0].secret);
  const std::string ms = std::string(k_ts) + "123";
  c.set_header("webhook-timestamp", ms);
  c.set_header("webhook-signature", sign_v1(keys.secrets[0].secret, k_id, ms, "x"));
  VerifyPolicy policy;
  policy.now = 1614265330 + 5;
  const auto reasons = explain(c, keys, {}, policy, verify_request(c, keys, policy));
  ASSERT_EQ(reasons.size(), 2u);
  EXPECT_EQ(reasons[0].code, ReasonCode::timestamp_in_milliseconds);
  EXPECT_NE(reasons[0].message.find("as seconds it would be 1614265330 (2021-02-25T15:02:10Z, 5 s before now)"),
            std::string::npos)
      << reasons[0].message;
  EXPECT_EQ(reasons[1].code, ReasonCode::timestamp_too_new);
  // Thirteen digits far in the future are no milliseconds of now.
  c.set_header("webhook-timestamp", "9999999999999");
  EXPECT_EQ(codes(c, keys)[0], "timestamp_too_new");
}

TEST(ExplainCodes, TimestampNotCanonical) {
  const auto keys = secret_keys();
  auto c = signed_request("x", "x", keys.secrets[0].secret);  // signed over the integer
  c.set_header("webhook-timestamp", "00" + std::string(k_ts));
  EXPECT_EQ(codes(c, keys), (std::vector<std::string>{"timestamp_not_canonical"}));
  c.set_header("webhook-timestamp", "+" + std::string(k_ts));
  EXPECT_EQ(codes(c, keys), (std::vector<std::string>{"malformed_header", "timestamp_not_canonical"}));
  // Not the cause, but still worth saying: the header is not what libraries write.
  c.body = "y";
  c.set_header("webhook-timestamp", "0" + std::string(k_ts));
  EXPECT_EQ(codes(c, keys), (std::vector<std::string>{"signature_mismatch", "timestamp_not_canonical"}));
}

TEST(ExplainCodes, SignatureHexEncoded) {
  const auto keys = secret_keys();
  auto c = signed_request("x", "x", keys.secrets[0].secret);
  const auto mac = util::hmac_sha256(keys.secrets[0].secret.bytes, {k_id, ".", k_ts, ".", "x"});
  c.set_header("webhook-signature", "v1," + util::to_hex(util::Bytes(mac.begin(), mac.end())));
  EXPECT_EQ(codes(c, keys), (std::vector<std::string>{"signature_hex_encoded", "malformed_signature_header"}));
  // Upper-case hex, and a hex entry beside a usable one.
  std::string upper = *c.find_header("webhook-signature");
  for (auto& ch : upper) {
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  upper[0] = 'v';
  c.set_header("webhook-signature", upper + " v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_EQ(codes(c, keys)[0], "signature_hex_encoded");
}

TEST(ExplainCodes, BodyBase64Encoded) {
  const auto keys = secret_keys();
  EXPECT_EQ(codes(signed_request(R"({"a":1})", "eyJhIjoxfQ==", keys.secrets[0].secret), keys)[0],
            "body_base64_encoded");
}

// jq writes a newline, an editor adds another: trailing whitespace, not a re-encoding.
TEST(ExplainCodes, AnyTrailingWhitespaceIsTrailingNewline) {
  const auto keys = secret_keys();
  const auto& secret = keys.secrets[0].secret;
  for (const char* tail : {"\n\n", "\r\n", " \n", "\t", "\r\n\r\n"}) {
    EXPECT_EQ(codes(signed_request(R"({"a":1})", std::string(R"({"a":1})") + tail, secret), keys),
              (std::vector<std::string>{"trailing_newline"}))
        << tail;
  }
  // Signed with one newline, received with two (an editor added one to jq's output).
  EXPECT_EQ(codes(signed_request("{}\n", "{}\n\n", secret), keys), (std::vector<std::string>{"trailing_newline"}));
  EXPECT_EQ(codes(signed_request("{}\r\n", "{}\n \n", secret), keys), (std::vector<std::string>{"trailing_newline"}));
}

TEST(ExplainCodes, ABodyLoggedParsed) {
  const auto keys = secret_keys();
  auto c = signed_request(R"({"a":1})", R"({"a":1})", keys.secrets[0].secret);
  c.body_parsed = true;
  VerifyPolicy policy;
  policy.now = 1614265330;
  auto reasons = explain(c, keys, {}, policy, verify_request(c, keys, policy));
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0].code, ReasonCode::body_parsed);
  EXPECT_NE(reasons[0].message.find("does verify under s"), std::string::npos) << reasons[0].message;
  // Signed with Python's separators: the re-encoding that does verify is named.
  c = signed_request(R"({"a": 1})", R"({"a":1})", keys.secrets[0].secret);
  c.body_parsed = true;
  policy.now += 1000;
  EXPECT_EQ(codes_at(c, keys, policy),
            (std::vector<std::string>{"body_parsed", "timestamp_too_old", "body_reserialized"}));
}

TEST(ExplainCodes, SignatureMismatchNamesTheKeysUsed) {
  const auto stranger = *parse_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
  auto keys = secret_keys();
  keys.secrets[0].name = "the default secret (/x/secret)";
  const auto c = signed_request("x", "x", stranger);
  VerifyPolicy policy;
  policy.now = 1614265330;
  const auto reasons = explain(c, keys, {}, policy, verify_request(c, keys, policy));
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].message.find("verifies under the default secret (/x/secret), and no common"), std::string::npos)
      << reasons[0].message;
}

TEST(ExplainCodes, TimestampTooNewGivesTheSkew) {
  auto c = signed_request("x", "x", secret_keys().secrets[0].secret);
  c.set_header("webhook-timestamp", "1614266000");
  const auto keys = secret_keys();
  VerifyPolicy policy;
  policy.now = 1614265330;
  const auto reasons = explain(c, keys, {}, policy, verify_request(c, keys, policy));
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons[0].code, ReasonCode::timestamp_too_new);
  EXPECT_NE(reasons[0].message.find("670 s in the future"), std::string::npos);
}

// The codes are a public contract: their text, and the order of the enum,
// which is the order they are reported in (diagnose.hpp).
TEST(ReasonCode, CodesInTheirReportedOrder) {
  const std::vector<std::string> documented = {"missing_header",
                                               "svix_headers",
                                               "malformed_header",
                                               "body_parsed",
                                               "timestamp_in_milliseconds",
                                               "timestamp_too_old",
                                               "timestamp_too_new",
                                               "timestamp_not_canonical",
                                               "signature_hex_encoded",
                                               "body_base64_encoded",
                                               "trailing_newline",
                                               "line_endings_changed",
                                               "body_reserialized",
                                               "wrong_key",
                                               "secret_format",
                                               "malformed_signature_header",
                                               "scheme_mismatch",
                                               "signature_mismatch",
                                               "diagnosis_limited",
                                               "skipped_entries"};
  std::vector<std::string> declared;
  for (int i = 0; i <= static_cast<int>(ReasonCode::skipped_entries); ++i) {
    declared.push_back(std::string(to_code(static_cast<ReasonCode>(i))));
  }
  EXPECT_EQ(declared, documented);
}

// Several reasons at once come in the order of the enum.
TEST(ReasonCode, SeveralReasonsComeInTheDeclaredOrder) {
  const auto keys = secret_keys();
  const auto stranger = *parse_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD");
  auto late = signed_request("{\"a\": 1}", "{\"a\": 1}\n", keys.secrets[0].secret);
  late.set_header("webhook-signature", *late.find_header("webhook-signature") + " v1,!!");
  auto deep = signed_request("x", std::string(200, '[') + std::string(200, ']'), stranger);
  deep.set_header("webhook-signature", *deep.find_header("webhook-signature") + " v1,!!");
  VerifyPolicy policy;
  policy.now = 1614265330 + 1000;
  const auto late_reasons = explain(late, keys, {}, policy, verify_request(late, keys, policy));
  policy.now = 1614265330;
  const auto deep_reasons = explain(deep, keys, {}, policy, verify_request(deep, keys, policy));
  for (const auto* reasons : {&late_reasons, &deep_reasons}) {
    ASSERT_GE(reasons->size(), 3u);
    for (std::size_t i = 1; i < reasons->size(); ++i) {
      EXPECT_LT((*reasons)[i - 1].code, (*reasons)[i].code)
          << to_code((*reasons)[i - 1].code) << " before " << to_code((*reasons)[i].code);
    }
  }
  EXPECT_EQ(late_reasons.front().code, ReasonCode::timestamp_too_old);
  EXPECT_EQ(deep_reasons.back().code, ReasonCode::skipped_entries);
}

}  // namespace
}  // namespace epilot::webhook
