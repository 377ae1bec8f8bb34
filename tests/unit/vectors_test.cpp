// Every file under fixtures/vectors/ against the library: parse the keys,
// verify, compare the verdict with `expect:`, and re-sign valid vectors.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "lib/webhook/diagnose.hpp"
#include "lib/webhook/keys.hpp"
#include "lib/webhook/signature.hpp"
#include "tests/unit/support.hpp"

namespace epilot {
namespace {

using test::Vector;

class VectorTest : public ::testing::TestWithParam<Vector> {};

// Parse all keys of `v`; the first refusal, if any, is returned.
std::optional<Error> load_keys(const Vector& v, webhook::VerifyKeys& keys, std::optional<webhook::PrivateKey>& priv) {
  for (const auto& text : v.all("secret")) {
    auto secret = webhook::parse_secret(text);
    if (!secret) {
      return secret.error();
    }
    keys.secrets.push_back({"secret", *secret});
  }
  for (const auto& text : v.all("public-key")) {
    auto key = webhook::parse_public_key(text);
    if (!key) {
      return key.error();
    }
    keys.public_keys.push_back({text, *key});
  }
  if (v.has("private-key")) {
    auto key = webhook::parse_private_key(v.get("private-key"));
    if (!key) {
      return key.error();
    }
    priv = *key;
    keys.public_keys.push_back({"derived", key->public_key});
  }
  return std::nullopt;
}

TEST_P(VectorTest, MatchesExpectation) {
  const auto& v = GetParam();
  const auto expect = v.get("expect");
  webhook::VerifyKeys keys;
  std::optional<webhook::PrivateKey> priv;
  const auto key_error = load_keys(v, keys, priv);
  if (expect == "bad_key") {
    ASSERT_TRUE(key_error.has_value()) << "a key of " << v.name << " should have been refused";
    EXPECT_EQ(key_error->code, ErrorCode::bad_key);
    EXPECT_FALSE(key_error->message.empty());
    return;
  }
  ASSERT_FALSE(key_error.has_value()) << key_error->message;

  // A private key given next to its public key must derive exactly that key.
  if (priv && v.has("public-key")) {
    EXPECT_EQ(to_whpk(priv->public_key), v.get("public-key"));
  }

  webhook::Capture request;
  request.method = "POST";
  request.body = v.body;
  for (const auto& [field, header] : {std::pair{"id", k_header_id}, std::pair{"timestamp", k_header_timestamp},
                                      std::pair{"signature", k_header_signature}}) {
    if (v.has(field)) {
      request.headers.push_back({std::string(header), v.get(field)});
    }
  }
  webhook::VerifyPolicy policy;
  policy.now = std::stoll(v.get("now"));
  const auto result = verify_request(request, keys, policy);
  EXPECT_EQ(to_code(result.verdict), expect) << v.get("comment");
  if (v.has("reason")) {
    std::vector<std::string> codes;
    for (const auto& r : explain(request, keys, webhook::VerifyKeys{}, policy, result)) {
      codes.push_back(std::string(to_code(r.code)));
    }
    for (const auto& code : v.all("reason")) {
      EXPECT_NE(std::find(codes.begin(), codes.end(), code), codes.end())
          << v.name << ": no " << code << " among " << ::testing::PrintToString(codes);
    }
  }

  const auto signature = v.get("signature");
  if (expect == "valid" && signature.find(' ') == std::string::npos) {
    if (signature.rfind("v1a,", 0) == 0 && priv) {
      EXPECT_EQ(sign_v1a(*priv, v.get("id"), v.get("timestamp"), v.body), signature);
    } else if (signature.rfind("v1,", 0) == 0 && keys.secrets.size() == 1) {
      EXPECT_EQ(sign_v1(keys.secrets[0].secret, v.get("id"), v.get("timestamp"), v.body), signature);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VectorTest, ::testing::ValuesIn(test::load_vectors()), [](const auto& param_info) {
  std::string name = param_info.param.name;
  for (auto& c : name) {
    c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  return name;
});

TEST(Vectors, CoverEveryOutcome) {
  std::set<std::string> seen;
  for (const auto& v : test::load_vectors()) {
    seen.insert(v.get("expect"));
  }
  for (const char* outcome : {"valid", "signature_mismatch", "timestamp_too_old", "timestamp_too_new",
                              "malformed_header", "missing_header", "bad_key"}) {
    EXPECT_TRUE(seen.count(outcome)) << "no vector expects " << outcome;
  }
}

}  // namespace
}  // namespace epilot
