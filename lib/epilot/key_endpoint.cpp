#include "lib/epilot/key_endpoint.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "lib/http/url.hpp"
#include "lib/util/base64.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/file.hpp"
#include "lib/util/json.hpp"
#include "lib/util/timefmt.hpp"

namespace epilot {

namespace {

using Json = nlohmann::ordered_json;

// The network failed us, one way or another: a cached key may stand in.
bool is_network_failure(ErrorCode code) {
  return code == ErrorCode::network || code == ErrorCode::untrusted || code == ErrorCode::timeout ||
         code == ErrorCode::protocol;
}

std::string excerpt(const std::string& body) {
  std::string out;
  for (char c : body.substr(0, 120)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '.';
  }
  return out + (body.size() > 120 ? "…" : "");
}

Error bad_answer(const std::string& url, const http::HttpResponse& response, const std::string& why) {
  return make_error(ErrorCode::bad_input, url + " answered " + std::to_string(response.status) + " but " + why +
                                              (response.body.empty() ? "" : ": '" + excerpt(response.body) + "'"));
}

}  // namespace

Result<std::string> key_endpoint_url(KeyEndpoint endpoint, const std::string& org_id, const std::string& base) {
  std::string url;
  switch (endpoint) {
    case KeyEndpoint::app:
      url = std::string(k_key_url_app);
      break;
    case KeyEndpoint::legacy:
      url = std::string(k_key_url_legacy);
      break;
    case KeyEndpoint::webhooks:
      url = std::string(k_key_url_webhooks);
      break;
  }
  if (endpoint == KeyEndpoint::webhooks) {
    if (org_id.empty()) {
      return make_error(ErrorCode::usage, Subject::missing_org_id,
                        "the webhooks endpoint serves a key per organisation: it needs an organisation id");
    }
    for (char c : org_id) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
        return make_error(ErrorCode::usage, Subject::malformed_org_id, "'" + org_id + "' is not an organisation id",
                          std::string::npos, org_id);
      }
    }
    url += "?orgId=" + org_id;
  } else if (!org_id.empty()) {
    return make_error(ErrorCode::usage, Subject::unwanted_org_id,
                      "an organisation id is only for the webhooks endpoint (the app keys are global)");
  }
  if (!base.empty()) {
    auto parsed = http::parse_url(base);
    EPILOT_TRY(parsed);
    auto target = http::parse_url(url);
    EPILOT_TRY(target);
    std::string b = base;
    while (!b.empty() && b.back() == '/') {
      b.pop_back();
    }
    url = b + target->target;
  }
  return url;
}

Result<webhook::PublicKey> parse_key_response(const http::HttpResponse& response, const std::string& url) {
  if (response.status < 200 || response.status > 299) {
    return bad_answer(url, response, "not with a key");
  }
  if (response.body.size() > k_max_key_response_size) {
    return bad_answer(url, response, "with " + std::to_string(response.body.size()) + " bytes, too many for a key");
  }
  auto parsed = util::parse_json<Json>(response.body);
  if (!parsed) {
    return bad_answer(url, response, "not with JSON");
  }
  Json& doc = *parsed;
  if (!doc.is_object()) {
    return bad_answer(url, response, "not with a JSON object");
  }
  const Json* pem = nullptr;
  for (const char* field : {"public_key", "publicKey"}) {
    if (doc.contains(field) && doc[field].is_string()) {
      pem = &doc[field];
      break;
    }
  }
  if (pem == nullptr) {
    return bad_answer(url, response, "without a public_key (or publicKey) string");
  }
  if (doc.contains("algorithm")) {
    const auto& algorithm = doc["algorithm"];
    if (!algorithm.is_string() || util::to_lower_ascii(algorithm.get<std::string>()) != "ed25519") {
      return bad_answer(
          url, response,
          "with algorithm " + algorithm.dump(-1, ' ', false, Json::error_handler_t::replace) + ", not ed25519");
    }
  }
  auto key = webhook::parse_public_key(pem->get<std::string>());
  if (!key) {
    return make_error(ErrorCode::bad_input, url + " answered with a key that is not usable: " + key.error().message);
  }
  return *key;
}

Result<webhook::PublicKey> fetch_public_key(http::HttpClient& http, const std::string& url, const RetryPolicy& retry) {
  auto backoff = retry.first_backoff;
  std::optional<Error> last;
  for (int attempt = 1; attempt <= std::max(1, retry.attempts); ++attempt) {
    if (attempt > 1 && retry.sleep) {
      retry.sleep(backoff);
      backoff *= 2;
    }
    auto response = http.get(url);
    if (!response) {
      if (response.error().code != ErrorCode::network) {
        // A bad URL, plain http, an untrusted certificate, a server without
        // TLS: retrying cannot help. Nor after a timeout: the next attempt
        // would most likely wait out the whole timeout again.
        return response.error();
      }
      last = response.error();
      continue;
    }
    if (response->status >= 500) {
      last = make_error(ErrorCode::network, url + " answered " + std::to_string(response->status) +
                                                (response->body.empty() ? "" : ": '" + excerpt(response->body) + "'"));
      continue;
    }
    return parse_key_response(*response, url);
  }
  auto error = *last;
  error.message += " (after " + std::to_string(std::max(1, retry.attempts)) + " attempts)";
  return error;
}

std::string cache_path(const std::string& cache_dir, const std::string& url) {
  std::string host = "key";
  if (auto parsed = http::parse_url(url)) {
    host.clear();
    for (char c : parsed->host) {
      host += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
    }
  }
  const auto digest = util::sha256(url);
  return cache_dir + "/" + host + "-" + util::to_hex(util::Bytes(digest.begin(), digest.begin() + 8)) + ".json";
}

Result<std::optional<CacheEntry>> read_cache_entry(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return std::optional<CacheEntry>();
  }
  if (!S_ISREG(st.st_mode)) {
    // A FIFO would block the read for ever; nothing but our own files belongs here.
    return make_error(ErrorCode::bad_input, "cache entry " + path + " is corrupt (not a regular file)");
  }
  auto text = util::read_file(path, k_max_key_response_size);
  EPILOT_TRY(text);
  auto entry = parse_cache_entry(*text);
  if (!entry) {
    return make_error(ErrorCode::bad_input, "cache entry " + path + " is corrupt (" + entry.error().message + ")");
  }
  return std::optional<CacheEntry>(std::move(*entry));
}

Result<CacheEntry> parse_cache_entry(std::string_view text) {
  const auto corrupt = [](const std::string& why) { return make_error(ErrorCode::bad_input, why); };
  auto parsed = util::parse_json<Json>(text);
  if (!parsed) {
    return corrupt("not JSON");
  }
  Json& doc = *parsed;
  if (!doc.is_object() || !doc["url"].is_string() || !doc["fetched_at"].is_number_integer() ||
      !doc["public_key"].is_string() || !doc["fingerprint"].is_string()) {
    return corrupt("fields missing");
  }
  auto key = webhook::parse_public_key(doc["public_key"].get<std::string>());
  if (!key) {
    return corrupt(key.error().message);
  }
  if (fingerprint(*key) != doc["fingerprint"].get<std::string>()) {
    return corrupt("the key does not match its fingerprint");
  }
  return CacheEntry{doc["url"].get<std::string>(), doc["fetched_at"].get<std::int64_t>(), *key};
}

Status write_cache_entry(const std::string& path, const CacheEntry& entry) {
  const auto slash = path.rfind('/');
  if (slash != std::string::npos) {
    EPILOT_TRY(util::make_directories(path.substr(0, slash), 0700));
  }
  Json doc;
  doc["url"] = entry.url;
  doc["fetched_at"] = entry.fetched_at;
  doc["public_key"] = to_pem(entry.key);
  doc["fingerprint"] = fingerprint(entry.key);
  return write_file_atomic(path, doc.dump(2) + "\n", 0644, util::Overwrite::yes);
}

Result<ObtainedKey> obtain_key(http::HttpClient& http, const KeyRequest& request, std::int64_t now) {
  ObtainedKey out;
  const auto warn = [&](const std::string& message) {
    if (request.warn) {
      request.warn(message);
    }
  };
  const auto path = cache_path(request.cache_dir, request.url);
  std::optional<CacheEntry> cached;
  auto read = read_cache_entry(path);
  if (!read) {
    warn(read.error().message + "; discarded");
    ::unlink(path.c_str());
  } else if (*read && (*read)->fetched_at > now + k_default_tolerance_seconds) {
    // Fetched in the future: a clock that was wrong then, or an edited file.
    // Its age means nothing, so it is not used.
    warn("cache entry " + path + " says it was fetched " + util::describe_duration((*read)->fetched_at - now) +
         " from now; discarded");
    ::unlink(path.c_str());
  } else if (*read && (*read)->url == request.url) {
    cached = **read;
  }

  if (request.mode == CacheMode::offline) {
    if (!cached) {
      // The caller knows how the user asked for this, so it adds the hint.
      return make_error(ErrorCode::usage,
                        "no key for " + request.url + " is cached, and the network is not to be used");
    }
    out.key = cached->key;
    out.source = KeySource::cache;
    out.fetched_at = cached->fetched_at;
    return out;
  }
  if (request.mode == CacheMode::normal && cached && now - cached->fetched_at < request.max_age &&
      now >= cached->fetched_at) {
    out.key = cached->key;
    out.source = KeySource::cache;
    out.fetched_at = cached->fetched_at;
    return out;
  }

  auto fetched = fetch_public_key(http, request.url, request.retry);
  if (!fetched) {
    if (is_network_failure(fetched.error().code) && cached) {
      warn(fetched.error().message + "; using the cached key fetched " +
           util::describe_duration(now - cached->fetched_at) + " ago");
      out.key = cached->key;
      out.source = KeySource::stale_cache;
      out.fetched_at = cached->fetched_at;
      return out;
    }
    return fetched.error();
  }
  out.key = *fetched;
  out.source = KeySource::network;
  out.fetched_at = now;
  if (cached && !(cached->key == *fetched)) {
    out.replaced = cached->key;
    warn("the key at " + request.url + " CHANGED: cached " + fingerprint(cached->key) + ", now " +
         fingerprint(*fetched));
  }
  if (auto written = write_cache_entry(path, CacheEntry{request.url, now, *fetched}); !written) {
    warn("could not cache the key: " + written.error().message);
  }
  return out;
}

}  // namespace epilot
