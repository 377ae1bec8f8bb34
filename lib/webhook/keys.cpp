#include "lib/webhook/keys.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "lib/http/wire.hpp"
#include "lib/util/base64.hpp"

namespace epilot::webhook {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

struct PemBlock {
  std::string label;
  util::Bytes der;
};

// Find the first PEM block in `text`. Text before it (comments) is ignored,
// like OpenSSL does; the base64 inside is decoded strictly.
Result<PemBlock> parse_pem(std::string_view text) {
  constexpr std::string_view k_begin = "-----BEGIN ";
  const auto begin = text.find(k_begin);
  if (begin == std::string_view::npos) {
    return make_error(ErrorCode::bad_key, "no PEM block found");
  }
  const auto label_start = begin + k_begin.size();
  const auto label_end = text.find("-----", label_start);
  if (label_end == std::string_view::npos) {
    return make_error(ErrorCode::bad_key, "malformed PEM header line");
  }
  PemBlock block;
  block.label = std::string(text.substr(label_start, label_end - label_start));
  const std::string end_line = "-----END " + block.label + "-----";
  const auto body_start = label_end + 5;
  const auto end = text.find(end_line, body_start);
  if (end == std::string_view::npos) {
    return make_error(ErrorCode::bad_key, "PEM block '" + block.label + "' has no END line (truncated?)");
  }
  std::string b64;
  for (char c : text.substr(body_start, end - body_start)) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') {
      b64.push_back(c);
    }
  }
  if (b64.find(':') != std::string::npos) {
    return make_error(ErrorCode::bad_key, "PEM block '" + block.label + "' is encrypted",
                      {"decrypt it first: openssl pkey -in KEY -out PLAIN.pem"});
  }
  auto der = util::base64_decode(b64);
  if (!der) {
    return make_error(ErrorCode::bad_key,
                      "PEM block '" + block.label + "' is not valid base64: " + util::base64_problem(b64));
  }
  block.der = std::move(*der);
  return block;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

// Name the algorithm of a DER key we do not accept, for the error message.
std::string describe_foreign_key(const util::Bytes& der, bool is_private) {
  const unsigned char* p = der.data();
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(is_private
                                                  ? d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size()))
                                                  : d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) {
    return "an unparseable key";
  }
  const char* name = EVP_PKEY_get0_type_name(pkey.get());
  return std::string("a ") + (name != nullptr ? name : "non-Ed25519") + " key";
}

bool has_prefix(const util::Bytes& der, const unsigned char* prefix, std::size_t size) {
  return der.size() >= size && std::memcmp(der.data(), prefix, size) == 0;
}

Result<util::Bytes> decode_prefixed(std::string_view text, std::string_view prefix, std::string_view what) {
  const auto b64 = text.substr(prefix.size());
  auto bytes = util::base64_decode(b64);
  if (!bytes) {
    return make_error(ErrorCode::bad_key, std::string(what) + " is not valid base64 after '" + std::string(prefix) +
                                              "': " + util::base64_problem(b64));
  }
  return std::move(*bytes);
}

std::string pem_wrap(std::string_view label, const util::Bytes& der) {
  const auto b64 = util::base64_encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out += b64.substr(i, 64);
    out += '\n';
  }
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

// Concatenate a fixed DER prefix and raw key bytes.
template <std::size_t N, std::size_t M>
util::Bytes der_with_prefix(const unsigned char (&prefix)[N], const std::array<std::uint8_t, M>& raw) {
  util::Bytes der(N + M);
  std::memcpy(der.data(), prefix, N);
  std::memcpy(der.data() + N, raw.data(), M);
  return der;
}

util::Bytes spki_der(const PublicKey& key) { return der_with_prefix(k_ed25519_spki_prefix, key.bytes); }

}  // namespace

Result<PublicKey> parse_public_key(std::string_view text) {
  text = util::trim_whitespace(text);
  if (text.empty()) {
    return make_error(ErrorCode::bad_key, "public key is empty");
  }
  if (starts_with(text, k_prefix_public_key)) {
    auto bytes = decode_prefixed(text, k_prefix_public_key, "public key");
    EPILOT_TRY(bytes);
    if (bytes->size() != k_ed25519_public_size) {
      return make_error(ErrorCode::bad_key, "whpk_ public key decodes to " + std::to_string(bytes->size()) +
                                                " bytes; an Ed25519 public key has 32");
    }
    PublicKey key;
    std::copy(bytes->begin(), bytes->end(), key.bytes.begin());
    return key;
  }
  if (starts_with(text, k_prefix_private_key) || starts_with(text, k_prefix_secret)) {
    return make_error(ErrorCode::bad_key,
                      "expected a public key, got a " + std::string(text.substr(0, text.find('_') + 1)) + " secret",
                      {"never hand a secret to a verifier that only needs the public key"});
  }
  auto pem = parse_pem(text);
  if (!pem) {
    return make_error(ErrorCode::bad_key, "public key is neither SPKI PEM nor whpk_: " + pem.error().message,
                      pem.error().hints);
  }
  if (pem->label == "PRIVATE KEY" || pem->label == "ENCRYPTED PRIVATE KEY") {
    return make_error(ErrorCode::bad_key, "expected a public key, got a private key",
                      {"pass the public half (keygen writes it next to the private key, or: "
                       "openssl pkey -in KEY -pubout)"});
  }
  if (pem->label != "PUBLIC KEY") {
    return make_error(ErrorCode::bad_key, "expected a 'PUBLIC KEY' PEM block, got '" + pem->label + "'");
  }
  const auto& der = pem->der;
  if (der.size() != sizeof(k_ed25519_spki_prefix) + k_ed25519_public_size ||
      !has_prefix(der, k_ed25519_spki_prefix, sizeof(k_ed25519_spki_prefix))) {
    return make_error(ErrorCode::bad_key, "public key is " + describe_foreign_key(der, false) + ", not Ed25519");
  }
  PublicKey key;
  std::copy(der.begin() + sizeof(k_ed25519_spki_prefix), der.end(), key.bytes.begin());
  return key;
}

Result<PrivateKey> parse_private_key(std::string_view text) {
  text = util::trim_whitespace(text);
  if (text.empty()) {
    return make_error(ErrorCode::bad_key, "private key is empty");
  }
  if (starts_with(text, k_prefix_private_key)) {
    auto bytes = decode_prefixed(text, k_prefix_private_key, "private key");
    EPILOT_TRY(bytes);
    if (bytes->size() != 32 && bytes->size() != 64) {
      return make_error(ErrorCode::bad_key, "whsk_ private key decodes to " + std::to_string(bytes->size()) +
                                                " bytes; expected a 32-byte seed or 64 bytes of seed and public key");
    }
    util::Ed25519Seed seed{};
    std::copy_n(bytes->begin(), seed.size(), seed.begin());
    auto key = private_key_from_seed(seed);
    if (bytes->size() == 64 &&
        !std::equal(key.public_key.bytes.begin(), key.public_key.bytes.end(), bytes->begin() + 32)) {
      return make_error(ErrorCode::bad_key,
                        "64-byte whsk_ private key: its second half is not the public key of its "
                        "first half (corrupted or two keys pasted together)");
    }
    return key;
  }
  if (starts_with(text, k_prefix_public_key)) {
    return make_error(ErrorCode::bad_key, "expected a private key, got a whpk_ public key");
  }
  if (starts_with(text, k_prefix_secret)) {
    return make_error(ErrorCode::bad_key, Subject::secret_as_private_key,
                      "expected an Ed25519 private key, got a whsec_ HMAC secret");
  }
  auto pem = parse_pem(text);
  if (!pem) {
    return make_error(ErrorCode::bad_key, "private key is neither PKCS#8 PEM nor whsk_: " + pem.error().message,
                      pem.error().hints);
  }
  if (pem->label == "PUBLIC KEY") {
    return make_error(ErrorCode::bad_key, "expected a private key, got a public key");
  }
  if (pem->label == "ENCRYPTED PRIVATE KEY") {
    return make_error(ErrorCode::bad_key, "the private key is encrypted",
                      {"decrypt it first: openssl pkey -in KEY -out PLAIN.pem"});
  }
  if (pem->label != "PRIVATE KEY") {
    return make_error(ErrorCode::bad_key, "expected a 'PRIVATE KEY' (PKCS#8) PEM block, got '" + pem->label + "'");
  }
  const auto& der = pem->der;
  util::Ed25519Seed seed{};
  if (der.size() == sizeof(k_ed25519_pkcs8_prefix) + seed.size() &&
      has_prefix(der, k_ed25519_pkcs8_prefix, sizeof(k_ed25519_pkcs8_prefix))) {
    std::copy(der.begin() + sizeof(k_ed25519_pkcs8_prefix), der.end(), seed.begin());
    return private_key_from_seed(seed);
  }
  // Other valid encodings (PKCS#8 v2 with the public key attached) go through OpenSSL.
  const unsigned char* p = der.data();
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  std::size_t len = seed.size();
  if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_ED25519 ||
      EVP_PKEY_get_raw_private_key(pkey.get(), seed.data(), &len) != 1 || len != seed.size()) {
    return make_error(ErrorCode::bad_key, "private key is " + describe_foreign_key(der, true) + ", not Ed25519");
  }
  return private_key_from_seed(seed);
}

Result<Secret> parse_secret(std::string_view text) {
  text = util::trim_whitespace(text);
  if (text.empty()) {
    return make_error(ErrorCode::bad_key, "secret is empty");
  }
  if (starts_with(text, "v1,") || starts_with(text, "v1s,") || starts_with(text, "v1a,")) {
    return make_error(ErrorCode::bad_key,
                      "secret starts with '" + std::string(text.substr(0, text.find(',') + 1)) +
                          "', which belongs to a signature, not a secret",
                      {"pass the whsec_... value your webhook settings show, without a version"});
  }
  if (starts_with(text, k_prefix_private_key) || starts_with(text, k_prefix_public_key)) {
    return make_error(ErrorCode::bad_key, Subject::key_as_secret,
                      "secret is an Ed25519 key (" + std::string(text.substr(0, 5)) + "), not an HMAC secret");
  }
  if (text.find("-----BEGIN") != std::string_view::npos) {
    return make_error(ErrorCode::bad_key, Subject::pem_as_secret, "secret is a PEM key, not an HMAC secret");
  }
  const bool prefixed = starts_with(text, k_prefix_secret);
  const auto b64 = prefixed ? text.substr(k_prefix_secret.size()) : text;
  if (b64.empty()) {
    return make_error(ErrorCode::bad_key, "secret is empty after 'whsec_'");
  }
  auto bytes = util::base64_decode(b64);
  if (!bytes) {
    return make_error(ErrorCode::bad_key,
                      std::string("secret is not valid base64") + (prefixed ? " after 'whsec_'" : "") + ": " +
                          util::base64_problem(b64),
                      {"a Standard Webhooks secret looks like whsec_ followed by base64"});
  }
  if (bytes->size() < k_secret_min_size) {
    return make_error(ErrorCode::bad_key, Subject::short_secret,
                      "secret decodes to " + std::to_string(bytes->size()) +
                          " bytes; Standard Webhooks secrets have at least " + std::to_string(k_secret_min_size));
  }
  return Secret{std::move(*bytes), std::string(text)};
}

PrivateKey private_key_from_seed(const util::Ed25519Seed& seed) {
  PrivateKey key;
  key.seed = seed;
  key.public_key.bytes = util::ed25519_public_from_seed(seed);
  return key;
}

PrivateKey generate_private_key(const util::RandomSource& random) {
  util::Ed25519Seed seed{};
  random(seed.data(), seed.size());
  return private_key_from_seed(seed);
}

Secret generate_secret(const util::RandomSource& random) {
  Secret secret{util::Bytes(k_secret_generated_size), ""};
  random(secret.bytes.data(), secret.bytes.size());
  secret.text = to_whsec(secret);
  return secret;
}

std::string to_pem(const PublicKey& key) { return pem_wrap("PUBLIC KEY", spki_der(key)); }

std::string to_pem(const PrivateKey& key) {
  return pem_wrap("PRIVATE KEY", der_with_prefix(k_ed25519_pkcs8_prefix, key.seed));
}

std::string to_whpk(const PublicKey& key) {
  return std::string(k_prefix_public_key) + util::base64_encode(util::Bytes(key.bytes.begin(), key.bytes.end()));
}

std::string to_whsk(const PrivateKey& key) {
  return std::string(k_prefix_private_key) + util::base64_encode(util::Bytes(key.seed.begin(), key.seed.end()));
}

std::string to_whsec(const Secret& secret) { return std::string(k_prefix_secret) + util::base64_encode(secret.bytes); }

std::string fingerprint(const PublicKey& key) {
  const auto digest = util::sha256(util::as_chars(spki_der(key)));
  auto b64 = util::base64_encode(util::Bytes(digest.begin(), digest.end()));
  while (!b64.empty() && b64.back() == '=') {
    b64.pop_back();
  }
  return "SHA256:" + b64;
}

Result<std::string> parse_fingerprint(std::string_view text) {
  constexpr std::string_view k_prefix = "SHA256:";
  auto b64 = text;
  if (b64.size() >= k_prefix.size() && util::iequals_ascii(b64.substr(0, k_prefix.size()), k_prefix)) {
    b64.remove_prefix(k_prefix.size());
  }
  std::string padded(b64);
  if (padded.size() == 43) {
    padded += '=';
  }
  const auto digest = util::base64_decode(padded);
  if (!digest || digest->size() != 32) {
    // Built with append: GCC 12 warns falsely (-Wrestrict) on chains of +.
    std::string message = "'";
    message.append(http::wire::printable(text, 60)).append("' is not a key fingerprint");
    return make_error(ErrorCode::usage, std::move(message),
                      {"a fingerprint is SHA256: followed by 43 characters of base64"});
  }
  return std::string(k_prefix) + padded.substr(0, 43);
}

bool looks_like_key_material(std::string_view text) {
  for (const auto prefix : {k_prefix_private_key, k_prefix_secret, k_prefix_public_key, std::string_view("-----BEGIN"),
                            std::string_view("v1,"), std::string_view("v1a,"), std::string_view("v1s,")}) {
    if (text.substr(0, prefix.size()) == prefix) {
      return true;
    }
  }
  // 24 or more random bytes in base64: 32+ characters of its alphabets
  // with upper and lower case letters and digits mixed, and no dot (a path
  // that long has one somewhere, or is not all base64 characters).
  if (text.size() < 32) {
    return false;
  }
  bool upper = false;
  bool lower = false;
  bool digit = false;
  for (char c : text) {
    upper = upper || (c >= 'A' && c <= 'Z');
    lower = lower || (c >= 'a' && c <= 'z');
    digit = digit || (c >= '0' && c <= '9');
    const bool b64 = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
                     c == '/' || c == '=' || c == '-' || c == '_';
    if (!b64) {
      return false;
    }
  }
  return upper && lower && digit;
}

}  // namespace epilot::webhook
