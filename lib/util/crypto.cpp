// HMAC is built on OpenSSL's low-level SHA-256 (deprecated in 3.0, but the
// same assembly as EVP): its context is a plain struct, so HMAC needs no
// allocation and no algorithm fetch per message, which EVP's HMAC() does.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "lib/util/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace epilot::util {

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

Ed25519Signature ed25519_sign(const Ed25519Seed& seed, const Ed25519Public& public_key, std::string_view message) {
  ensure_sodium();
  auto sk = sodium_secret(seed, public_key);
  Ed25519Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       sk.data());
  sodium_memzero(sk.data(), sk.size());
  return sig;
}

bool ed25519_verify(const Ed25519Public& public_key, std::string_view message, const std::uint8_t* signature) {
  ensure_sodium();
  return crypto_sign_verify_detached(signature, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     public_key.data()) == 0;
}

Sha256Digest hmac_sha256(const Bytes& key, std::initializer_list<std::string_view> parts) {
  // RFC 2104: H((K ^ opad) || H((K ^ ipad) || message)), K hashed first if
  // longer than the block.
  constexpr std::size_t k_block = 64;
  std::array<std::uint8_t, k_block> padded{};
  if (key.size() > k_block) {
    SHA256(key.data(), key.size(), padded.data());
  } else {
    std::memcpy(padded.data(), key.data(), key.size());
  }
  std::array<std::uint8_t, k_block> pad{};
  SHA256_CTX ctx;
  for (std::size_t i = 0; i < k_block; ++i) {
    pad[i] = padded[i] ^ 0x36;
  }
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad.data(), pad.size());
  for (const auto part : parts) {
    SHA256_Update(&ctx, part.data(), part.size());
  }
  Sha256Digest inner{};
  SHA256_Final(inner.data(), &ctx);
  for (std::size_t i = 0; i < k_block; ++i) {
    pad[i] = padded[i] ^ 0x5c;
  }
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, pad.data(), pad.size());
  SHA256_Update(&ctx, inner.data(), inner.size());
  Sha256Digest out{};
  SHA256_Final(out.data(), &ctx);
  OPENSSL_cleanse(padded.data(), padded.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  OPENSSL_cleanse(&ctx, sizeof ctx);
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

}  // namespace epilot::util
