#pragma once

// The crypto backend behind one small interface, so the rest of lib/ never
// names a library. Ed25519 runs on libsodium (measured at about 1.75x
// OpenSSL 3.0's verify rate and 2x its signing rate on these machines, see
// bench/ed25519-rates), HMAC-SHA256, SHA-256 and the constant-time compare on
// OpenSSL.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string_view>

#include "lib/util/bytes.hpp"
#include "lib/util/constants.hpp"

namespace epilot::util {

using Ed25519Seed = std::array<std::uint8_t, k_ed25519_seed_size>;
using Ed25519Public = std::array<std::uint8_t, k_ed25519_public_size>;
using Ed25519Signature = std::array<std::uint8_t, k_ed25519_signature_size>;
using Sha256Digest = std::array<std::uint8_t, 32>;

// Fills `size` bytes at `out` with unpredictable bytes. Passed into every lib/
// function that needs randomness, so tests can make it deterministic.
using RandomSource = std::function<void(std::uint8_t* out, std::size_t size)>;

// The operating system's CSPRNG (OpenSSL's RAND_bytes).
RandomSource system_random();

Ed25519Public ed25519_public_from_seed(const Ed25519Seed& seed);

// Pure Ed25519 (RFC 8032), no pre-hash: what `v1a` and epilot use.
Ed25519Signature ed25519_sign(const Ed25519Seed& seed, const Ed25519Public& public_key, std::string_view message);
bool ed25519_verify(const Ed25519Public& public_key, std::string_view message, const std::uint8_t* signature);

// HMAC-SHA256 of the concatenation of `parts`, without building it: the
// signed content of a request is three parts, and bodies can be large.
Sha256Digest hmac_sha256(const Bytes& key, std::initializer_list<std::string_view> parts);
inline Sha256Digest hmac_sha256(const Bytes& key, std::string_view message) { return hmac_sha256(key, {message}); }
Sha256Digest sha256(std::string_view data);

// Compares `size` bytes in time independent of their contents.
bool constant_time_equal(const std::uint8_t* a, const std::uint8_t* b, std::size_t size);

}  // namespace epilot::util
