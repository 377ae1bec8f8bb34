#pragma once

// Every wire-format constant in one place: header names, signature versions,
// key prefixes, limits and defaults. The spec: github.com/standard-webhooks/standard-webhooks,
// spec/standard-webhooks.md.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace epilot {

// Standard Webhooks headers (lowercase; lookups are case-insensitive).
inline constexpr std::string_view k_header_id = "webhook-id";
inline constexpr std::string_view k_header_timestamp = "webhook-timestamp";
inline constexpr std::string_view k_header_signature = "webhook-signature";
inline constexpr std::string_view k_header_epilot_token = "x-epilot-token";
inline constexpr std::string_view k_header_content_type = "content-type";
// Svix's own names for the same headers: only ever read to explain a failure
// (and to show them), never to verify.
inline constexpr std::string_view k_svix_header_prefix = "svix-";
inline constexpr std::string_view k_svix_header_id = "svix-id";
inline constexpr std::string_view k_svix_header_timestamp = "svix-timestamp";
inline constexpr std::string_view k_svix_header_signature = "svix-signature";

// Signature versions inside `webhook-signature`.
inline constexpr std::string_view k_version_hmac = "v1";
inline constexpr std::string_view k_version_hmac_alias = "v1s";  // epilot docs, Feb 2026
inline constexpr std::string_view k_version_ed25519 = "v1a";

// Key and id prefixes.
inline constexpr std::string_view k_prefix_secret = "whsec_";
inline constexpr std::string_view k_prefix_private_key = "whsk_";
inline constexpr std::string_view k_prefix_public_key = "whpk_";
inline constexpr std::string_view k_prefix_message_id = "msg_";

// Sizes in bytes.
inline constexpr std::size_t k_hmac_size = 32;
inline constexpr std::size_t k_ed25519_signature_size = 64;
inline constexpr std::size_t k_ed25519_seed_size = 32;
inline constexpr std::size_t k_ed25519_public_size = 32;
inline constexpr std::size_t k_secret_min_size = 24;  // longer ones are accepted too (Svix's server allows up to 75)
inline constexpr std::size_t k_secret_generated_size = 32;
inline constexpr std::size_t k_message_id_random_size = 16;  // 32 hex digits

// DER prefixes of the only Ed25519 key encodings OpenSSL and epilot produce:
// SPKI (public) and PKCS#8 v1 (private seed).
inline constexpr unsigned char k_ed25519_spki_prefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                          0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
inline constexpr unsigned char k_ed25519_pkcs8_prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                                           0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

// Verification defaults.
inline constexpr std::int64_t k_default_tolerance_seconds = 300;

// Input limits: anything larger is refused rather than read into memory.
inline constexpr std::size_t k_max_input_size = 64 * 1024 * 1024;
inline constexpr std::size_t k_max_key_file_size = 64 * 1024;
// One limit each, wherever a request or answer is read (listen, replay, the
// capture readers) and written (sign): the head of an HTTP message (431
// beyond), a single header value in it, and the number of header fields.
inline constexpr std::size_t k_max_head_size = 64 * 1024;
inline constexpr std::size_t k_max_header_line = 64 * 1024;
inline constexpr std::size_t k_max_header_count = 1000;
inline constexpr std::size_t k_max_timestamp_digits = 18;  // fits int64 without overflow

// Capture defaults written by `sign`.
inline constexpr std::string_view k_default_method = "POST";
inline constexpr std::string_view k_default_url = "http://localhost:3000/";
inline constexpr std::string_view k_json_content_type = "application/json";
// For a body that is not JSON and names no type of its own.
inline constexpr std::string_view k_text_content_type = "text/plain; charset=utf-8";
inline constexpr std::string_view k_binary_content_type = "application/octet-stream";

// epilot's public-key endpoints (its App SDK's verifier reads the first).
inline constexpr std::string_view k_key_url_app = "https://cdn.app.sls.epilot.io/v1/.well-known/public-key";
inline constexpr std::string_view k_key_url_legacy = "https://app.sls.epilot.io/v1/public/.well-known/public-key";
inline constexpr std::string_view k_key_url_webhooks =
    "https://webhooks.sls.epilot.io/v1/webhooks/.well-known/public-key";  // + ?orgId=
inline constexpr std::int64_t k_default_key_max_age_seconds = 24 * 3600;
inline constexpr std::size_t k_max_key_response_size = 64 * 1024;

// Default local keypair, under the config directory.
inline constexpr std::string_view k_config_subdir = "epilot-action";
inline constexpr std::string_view k_default_private_key_file = "private-key.pem";
inline constexpr std::string_view k_default_public_key_file = "public-key.pem";

}  // namespace epilot
