#include "lib/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace epilot {

namespace {

void ensure_sodium() {
  // sodium_init() is idempotent and thread-safe; a failure means no usable
  // CPU feature detection or RNG, which no caller can recover from.
  static const bool initialised = sodium_init() >= 0;
  if (!initialised) {
    throw std::runtime_error("libsodium failed to initialise");
  }
}

std::array<std::uint8_t, 64> sodium_secret(const Ed25519Seed& seed, const Ed25519Public& pub) {
  // libsodium's secret key is seed || public key.
  std::array<std::uint8_t, 64> sk{};
  std::memcpy(sk.data(), seed.data(), seed.size());
  std::memcpy(sk.data() + seed.size(), pub.data(), pub.size());
  return sk;
}

}  // namespace

RandomSource system_random() {
  return [](std::uint8_t* out, std::size_t size) {
    if (RAND_bytes(out, static_cast<int>(size)) != 1) {
      throw std::runtime_error("the system random number generator failed");
    }
  };
}

Ed25519Public ed25519_public_from_seed(const Ed25519Seed& seed) {
  ensure_sodium();
  Ed25519Public pub{};
  std::array<std::uint8_t, 64> sk{};
  crypto_sign_seed_keypair(pub.data(), sk.data(), seed.data());
  sodium_memzero(sk.data(), sk.size());
  return pub;
}

Ed25519Signature ed25519_sign(const Ed25519Seed& seed, const Ed25519Public& public_key,
                              std::string_view message) {
  ensure_sodium();
  auto sk = sodium_secret(seed, public_key);
  Ed25519Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), sk.data());
  sodium_memzero(sk.data(), sk.size());
  return sig;
}

bool ed25519_verify(const Ed25519Public& public_key, std::string_view message,
                    const std::uint8_t* signature) {
  ensure_sodium();
  return crypto_sign_verify_detached(signature,
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), public_key.data()) == 0;
}

Sha256Digest hmac_sha256(const Bytes& key, std::string_view message) {
  Sha256Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  return out;
}

Sha256Digest sha256(std::string_view data) {
  Sha256Digest out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t size) {
  return CRYPTO_memcmp(a, b, size) == 0;
}

}  // namespace epilot
