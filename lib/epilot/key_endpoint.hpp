#pragma once

// epilot's public key: where it is served, how the answer is checked, and how
// it is cached. epilot rotates keys without a key id, so a key that stops
// verifying is refetched once, and a key that changes is reported.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/http/client.hpp"
#include "lib/webhook/keys.hpp"

namespace epilot {

enum class KeyEndpoint { app, legacy, webhooks };

// The URL of `endpoint`; `org_id` is required for (and only for) webhooks.
// `base`, when not empty, replaces the scheme and host (staging, tests).
Result<std::string> key_endpoint_url(KeyEndpoint endpoint, const std::string& org_id, const std::string& base);

// Check a key endpoint's answer: a 2xx JSON object whose `public_key` (or
// `publicKey`) is an Ed25519 SPKI PEM and whose `algorithm`, when present, is
// ed25519. Errors quote the status and a short excerpt of the body.
Result<webhook::PublicKey> parse_key_response(const http::HttpResponse& response, const std::string& url);

struct RetryPolicy {
  int attempts = 3;                                      // in all, first try included
  std::chrono::milliseconds first_backoff{500};          // doubled after each failure
  std::function<void(std::chrono::milliseconds)> sleep;  // injected so tests need not wait
};

// GET and check the key at `url`, retrying on connection errors and 5xx
// (not on timeouts, untrusted certificates or a server without TLS).
// A 5xx that persists is a network error; any other bad answer is bad_input.
Result<webhook::PublicKey> fetch_public_key(http::HttpClient& http, const std::string& url, const RetryPolicy& retry);

struct CacheEntry {
  std::string url;
  std::int64_t fetched_at = 0;
  webhook::PublicKey key;
};

// The cache file of `url` under `cache_dir`: readable host name plus a hash.
std::string cache_path(const std::string& cache_dir, const std::string& url);

// nullopt if there is no entry; an error if it exists but cannot be trusted
// (unparseable, for another URL, a key that does not match its fingerprint).
// Anything but a regular file there is an error too.
Result<std::optional<CacheEntry>> read_cache_entry(const std::string& path);
// The entry in `text`; an error says why it cannot be trusted.
Result<CacheEntry> parse_cache_entry(std::string_view text);
Status write_cache_entry(const std::string& path, const CacheEntry& entry);

enum class CacheMode {
  normal,   // use a cached key younger than max_age seconds, else fetch
  refresh,  // always fetch
  offline,  // never fetch
};

struct KeyRequest {
  std::string url;
  std::string cache_dir;
  std::int64_t max_age = k_default_key_max_age_seconds;
  CacheMode mode = CacheMode::normal;
  RetryPolicy retry;
  // Told what the caller should show (a corrupt cache, a stale key, a change),
  // as it happens, so that nothing is lost when obtaining the key then fails.
  std::function<void(const std::string&)> warn;
};

enum class KeySource { network, cache, stale_cache };

struct ObtainedKey {
  webhook::PublicKey key;
  KeySource source = KeySource::network;
  std::int64_t fetched_at = 0;
  std::optional<webhook::PublicKey> replaced;  // the cached key, when the fetched one differs
};

// The key for `request`, from the cache or the network as its mode says; when
// the network fails, a cached key of any age, with a warning. A corrupt cache
// entry is discarded with a warning. Fetched keys are cached atomically.
Result<ObtainedKey> obtain_key(http::HttpClient& http, const KeyRequest& request, std::int64_t now);

}  // namespace epilot
