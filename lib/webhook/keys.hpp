#pragma once

// Key material and its text forms.
//
// Ed25519 private keys: PKCS#8 PEM (`openssl genpkey -algorithm ED25519`) or
// `whsk_` + base64 of the 32-byte seed or of the 64-byte seed || public key.
// Ed25519 public keys: SPKI PEM (what epilot serves) or `whpk_` + base64 of 32
// bytes. HMAC secrets: `whsec_` + base64 of 24 to 64 bytes (the prefix may be
// left off, as every Standard Webhooks library allows).

#include <string>
#include <string_view>

#include "lib/util/bytes.hpp"
#include "lib/util/crypto.hpp"
#include "lib/util/error.hpp"

namespace epilot::webhook {

struct PublicKey {
  util::Ed25519Public bytes{};
  bool operator==(const PublicKey&) const = default;
};

struct PrivateKey {
  util::Ed25519Seed seed{};
  PublicKey public_key;  // derived from `seed`, kept to avoid re-deriving per signature
};

struct Secret {
  util::Bytes bytes;
  // The text it was parsed from, kept only so that diagnosis can try the ways
  // other senders misuse a secret (its text as the key, prefix and all).
  std::string text;
};

// Parse a public key from `text`: SPKI PEM or `whpk_...` (surrounding
// whitespace ignored). Errors name what was found instead (an RSA key, a
// private key, bad base64, a wrong length).
Result<PublicKey> parse_public_key(std::string_view text);

// Parse a private key from `text`: PKCS#8 PEM or `whsk_...`. A 64-byte `whsk_`
// must carry the public key that its seed derives.
Result<PrivateKey> parse_private_key(std::string_view text);

// Parse an HMAC secret, strictly. Errors explain the usual paste mistakes
// (`v1,` in front, an Ed25519 key, URL-safe base64, too short).
Result<Secret> parse_secret(std::string_view text);

PrivateKey private_key_from_seed(const util::Ed25519Seed& seed);
PrivateKey generate_private_key(const util::RandomSource& random);
Secret generate_secret(const util::RandomSource& random);

std::string to_pem(const PublicKey& key);   // SPKI, "BEGIN PUBLIC KEY"
std::string to_pem(const PrivateKey& key);  // PKCS#8 v1, "BEGIN PRIVATE KEY"
std::string to_whpk(const PublicKey& key);
std::string to_whsk(const PrivateKey& key);  // the 32-byte seed form
std::string to_whsec(const Secret& secret);

// "SHA256:" + base64 of the SHA-256 of the SPKI DER, a short stable name for a key.
std::string fingerprint(const PublicKey& key);

// A fingerprint as a person may give it, in the form fingerprint() writes:
// the "SHA256:" prefix (any case) may be left out and the base64 may keep
// its "=" padding. Anything that is not the base64 of 32 bytes is an error
// (ErrorCode::usage), so that a typo cannot pass as "a different key".
Result<std::string> parse_fingerprint(std::string_view text);

// True when `text` looks like a key or secret rather than a file name:
// a whsk_/whsec_/whpk_ string, a PEM block, a signature entry, or a long
// run of base64. Such values are never quoted in a message.
bool looks_like_key_material(std::string_view text);

}  // namespace epilot::webhook
