#include "lib/util/crypto.hpp"

#include <gtest/gtest.h>

#include "lib/util/base64.hpp"

namespace epilot::util {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> from_hex(std::string_view hex) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    out[i] = static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return out;
}

// RFC 8032 section 7.1, TEST 2 (one-byte message 0x72).
TEST(Ed25519, MatchesRfc8032Test2) {
  const auto seed = from_hex<32>("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
  const auto pub = ed25519_public_from_seed(seed);
  EXPECT_EQ(pub, (from_hex<32>("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")));
  const auto sig = ed25519_sign(seed, pub, "\x72");
  EXPECT_EQ(sig, (from_hex<64>("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                               "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")));
  EXPECT_TRUE(ed25519_verify(pub, "\x72", sig.data()));
  EXPECT_FALSE(ed25519_verify(pub, "\x73", sig.data()));
  auto bad = sig;
  bad[63] ^= 0x01;
  EXPECT_FALSE(ed25519_verify(pub, "\x72", bad.data()));
}

// RFC 4231 test case 2: key "Jefe".
TEST(HmacSha256, MatchesRfc4231Case2) {
  const auto mac = hmac_sha256(Bytes{'J', 'e', 'f', 'e'}, "what do ya want for nothing?");
  EXPECT_EQ(mac, (from_hex<32>("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")));
}

TEST(Sha256, MatchesFips180Abc) {
  EXPECT_EQ(sha256("abc"), (from_hex<32>("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")));
}

TEST(ConstantTimeEqual, ComparesAllBytes) {
  const std::uint8_t a[] = {1, 2, 3, 4};
  const std::uint8_t b[] = {1, 2, 3, 5};
  EXPECT_TRUE(constant_time_equal(a, a, 4));
  EXPECT_FALSE(constant_time_equal(a, b, 4));
  EXPECT_TRUE(constant_time_equal(a, b, 3));
}

TEST(SystemRandom, FillsDistinctBuffers) {
  const auto random = system_random();
  Bytes x(32);
  Bytes y(32);
  random(x.data(), x.size());
  random(y.data(), y.size());
  EXPECT_NE(x, y);
}

}  // namespace
}  // namespace epilot::util
