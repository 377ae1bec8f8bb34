#pragma once

// Shared by the check_* unit tests: a fixed clock, deterministic
// randomness, keys, a genuine request's context, and answers.

#include <memory>
#include <string>
#include <string_view>

#include "lib/epilot/check_battery.hpp"
#include "lib/epilot/check_requests.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot::test {

inline constexpr std::int64_t k_now = 1750000000;
inline constexpr std::string_view k_body = R"({"type":"external_integration","data":{"org_id":"739224","name":"Ada"}})";

// A deterministic stream of bytes, so every run builds the same requests;
// one stream for every context, so no two cases draw the same webhook-id.
inline util::RandomSource counting_random() {
  static auto counter = std::make_shared<std::uint32_t>(0);
  return [](std::uint8_t* out, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      const auto n = (*counter)++;
      out[i] = static_cast<std::uint8_t>(n ^ (n >> 8) ^ (n >> 16));
    }
  };
}

inline webhook::PrivateKey test_key() {
  util::Ed25519Seed seed{};
  seed[0] = 7;
  return webhook::private_key_from_seed(seed);
}

inline webhook::Secret test_secret() { return webhook::Secret{util::Bytes(32, 0x42), ""}; }

inline CaseContext context(std::string_view body = k_body) {
  CaseContext c;
  c.base.method = "POST";
  c.base.url = "http://127.0.0.1:3000/hook";
  c.base.headers = {{"Host", "127.0.0.1:3000"}, {"Content-Type", "application/json"}};
  c.base.body = std::string(body);
  c.now = k_now;
  c.tolerance = 300;
  c.random = counting_random();
  return c;
}

inline CheckKeys v1a_keys() { return CheckKeys{test_key(), std::nullopt}; }

// How lib's own verifier sees a request, as an endpoint holding `keys` would.
inline webhook::Verification verify_as_endpoint(const webhook::Capture& request, bool with_secret = false) {
  webhook::VerifyKeys keys;
  keys.public_keys.push_back({"test", test_key().public_key});
  if (with_secret) {
    keys.secrets.push_back({"secret", test_secret()});
  }
  webhook::VerifyPolicy policy;
  policy.now = k_now;
  return verify_request(request, keys, policy);
}

inline const webhook::Capture& only(const CaseRequests& built) {
  EXPECT_EQ(built.requests.size(), 1u);
  return built.requests.front();
}

inline CaseAnswer answer(int status, std::string body = "{}") {
  CaseAnswer a;
  a.delivered.answer.status = status;
  a.delivered.answer.body = std::move(body);
  a.classified = classify(a.delivered);
  return a;
}

inline CaseAnswer failure(http::Delivery delivery, std::string error = "it broke") {
  CaseAnswer a;
  a.delivered.delivery = delivery;
  a.delivered.error = std::move(error);
  a.classified = classify(a.delivered);
  return a;
}

}  // namespace epilot::test
