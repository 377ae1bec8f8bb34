#include "lib/webhook/keys.hpp"

#include <gtest/gtest.h>

#include "tests/unit/support.hpp"

namespace epilot::webhook {
namespace {

// A fixed RandomSource: tests must not depend on the system RNG.
util::RandomSource counting_random() {
  return [](std::uint8_t* out, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      out[i] = static_cast<std::uint8_t>(i + 1);
    }
  };
}

TEST(ParsePrivateKey, ReadsOpensslGenpkeyPem) {
  // fixtures/keys/openssl-ed25519.pem was written by `openssl genpkey -algorithm ED25519`;
  // its public half by `openssl pkey -pubout`.
  const auto key = parse_private_key(test::read_fixture("keys/openssl-ed25519.pem"));
  ASSERT_TRUE(key.ok()) << key.error().message;
  const auto pub = parse_public_key(test::read_fixture("keys/openssl-ed25519.pub.pem"));
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(key->public_key, *pub);
}

TEST(ParsePrivateKey, PemRoundTripsThroughOurWriter) {
  const auto key = generate_private_key(counting_random());
  const auto again = parse_private_key(to_pem(key));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->seed, key.seed);
  const auto whsk = parse_private_key(to_whsk(key));
  ASSERT_TRUE(whsk.ok());
  EXPECT_EQ(whsk->public_key, key.public_key);
}

TEST(ParsePrivateKey, SeedOfOnesDerivesTheTvE2PublicKey) {
  const auto key = parse_private_key("whsk_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(to_whpk(key->public_key), "whpk_iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=");
}

TEST(ParsePrivateKey, RefusesOtherKindsWithAReason) {
  const auto rsa = parse_private_key(test::read_fixture("keys/rsa-2048.pem"));
  ASSERT_FALSE(rsa.ok());
  EXPECT_EQ(rsa.error().code, ErrorCode::bad_key);
  EXPECT_NE(rsa.error().message.find("RSA"), std::string::npos) << rsa.error().message;

  const auto pub = parse_private_key(test::read_fixture("keys/openssl-ed25519.pub.pem"));
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().message.find("public key"), std::string::npos);

  EXPECT_FALSE(parse_private_key("").ok());
  EXPECT_FALSE(parse_private_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").ok());
  EXPECT_FALSE(parse_private_key("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI").ok());
}

TEST(ParsePublicKey, RefusesRsaAndPrivateKeys) {
  const auto rsa = parse_public_key(test::read_fixture("keys/rsa-2048.pub.pem"));
  ASSERT_FALSE(rsa.ok());
  EXPECT_NE(rsa.error().message.find("RSA"), std::string::npos) << rsa.error().message;
  const auto priv = parse_public_key(test::read_fixture("keys/openssl-ed25519.pem"));
  ASSERT_FALSE(priv.ok());
  EXPECT_NE(priv.error().message.find("private key"), std::string::npos);
  EXPECT_FALSE(parse_public_key("whpk_").ok());
  EXPECT_FALSE(parse_public_key("whsk_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").ok());
}

TEST(ParsePublicKey, PemAndWhpkAgree) {
  const auto key = generate_private_key(counting_random()).public_key;
  const auto from_pem = parse_public_key(to_pem(key));
  const auto from_whpk = parse_public_key(to_whpk(key));
  ASSERT_TRUE(from_pem.ok());
  ASSERT_TRUE(from_whpk.ok());
  EXPECT_EQ(*from_pem, key);
  EXPECT_EQ(*from_whpk, key);
  EXPECT_EQ(to_pem(key).rfind("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA", 0), 0u);
}

TEST(ParseSecret, ExplainsPasteMistakes) {
  const auto with_version = parse_secret("v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_FALSE(with_version.ok());
  EXPECT_NE(with_version.error().message.find("v1,"), std::string::npos);
  const auto ed = parse_secret("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=");
  ASSERT_FALSE(ed.ok());
  EXPECT_NE(ed.error().message.find("Ed25519"), std::string::npos);
  const auto url_safe = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w");
  ASSERT_FALSE(url_safe.ok());
  EXPECT_NE(url_safe.error().message.find("URL-safe"), std::string::npos);
}

TEST(ParseSecret, NeverEchoesTheSecret) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS";  // 23 bytes: refused
  const auto result = parse_secret(secret);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message.find("MfKQ9r8"), std::string::npos);
  for (const auto& hint : result.error().hints) {
    EXPECT_EQ(hint.find("MfKQ9r8"), std::string::npos);
  }
}

TEST(GenerateSecret, Is32RandomBytesWithPrefix) {
  const auto secret = generate_secret(counting_random());
  EXPECT_EQ(secret.bytes.size(), 32u);
  const auto text = to_whsec(secret);
  EXPECT_EQ(text.rfind("whsec_", 0), 0u);
  const auto parsed = parse_secret(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->bytes, secret.bytes);
}

TEST(Fingerprint, IsSha256OfTheSpkiDer) {
  // SHA-256 of the SPKI DER of whpk_1SiA..., computed with
  // `openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64`.
  const auto key = parse_public_key("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(fingerprint(*key), test::read_fixture("keys/tv-e1.fingerprint").substr(0, 50));
}

TEST(ParseFingerprint, TakesItWithOrWithoutPrefixAndPadding) {
  const auto canonical = test::read_fixture("keys/tv-e1.fingerprint").substr(0, 50);
  const auto b64 = canonical.substr(7);
  for (const auto& given : {canonical, b64, b64 + "=", "sha256:" + b64}) {
    const auto parsed = parse_fingerprint(given);
    ASSERT_TRUE(parsed.ok()) << given;
    EXPECT_EQ(*parsed, canonical) << given;
  }
}

TEST(ParseFingerprint, RefusesWhatIsNotOne) {
  const auto b64 = test::read_fixture("keys/tv-e1.fingerprint").substr(7, 43);
  for (const std::string& given : {std::string(""), std::string("SHA256:"), "SHA256:" + b64.substr(1), "MD5:" + b64,
                                   "SHA256:" + b64 + "==", "SHA256:" + b64.substr(0, 42) + "!", "SHA256: " + b64}) {
    const auto parsed = parse_fingerprint(given);
    ASSERT_FALSE(parsed.ok()) << given;
    EXPECT_EQ(parsed.error().code, ErrorCode::usage);
  }
}

}  // namespace
}  // namespace epilot::webhook
