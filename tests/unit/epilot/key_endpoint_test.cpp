#include "lib/epilot/key_endpoint.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <deque>
#include <filesystem>

#include "lib/util/file.hpp"
#include "tests/unit/support.hpp"

namespace epilot {
namespace {

// An HttpClient that answers from a script and records what was asked.
class ScriptedHttp : public http::HttpClient {
 public:
  std::deque<Result<http::HttpResponse>> answers;
  std::vector<std::string> asked;
  Result<http::HttpResponse> get(const std::string& url) override {
    asked.push_back(url);
    if (answers.empty()) {
      return make_error(ErrorCode::network, "no more answers");
    }
    auto next = answers.front();
    answers.pop_front();
    return next;
  }
  Result<http::HttpResponse> post(const std::string&, const std::string&, const std::string&) override {
    return make_error(ErrorCode::usage, "the key is only ever fetched with GET");
  }
};

http::HttpResponse ok_key(const webhook::PublicKey& key, const char* field = "public_key") {
  return http::HttpResponse{200,
                            std::string("{\"") + field + "\": " + nlohmann::json(to_pem(key)).dump() +
                                ", \"algorithm\": \"ed25519\", \"issuer\": \"epilot\"}",
                            "application/json"};
}

webhook::PublicKey key_of(std::uint8_t fill) {
  util::Ed25519Seed seed{};
  seed.fill(fill);
  return webhook::private_key_from_seed(seed).public_key;
}

RetryPolicy no_wait(std::vector<std::chrono::milliseconds>* waits = nullptr) {
  RetryPolicy retry;
  retry.sleep = [waits](std::chrono::milliseconds d) {
    if (waits != nullptr) {
      waits->push_back(d);
    }
  };
  return retry;
}

TEST(KeyEndpointUrl, BuildsTheThreeEndpoints) {
  EXPECT_EQ(*key_endpoint_url(KeyEndpoint::app, "", ""), "https://cdn.app.sls.epilot.io/v1/.well-known/public-key");
  EXPECT_EQ(*key_endpoint_url(KeyEndpoint::legacy, "", ""),
            "https://app.sls.epilot.io/v1/public/.well-known/public-key");
  EXPECT_EQ(*key_endpoint_url(KeyEndpoint::webhooks, "739224", ""),
            "https://webhooks.sls.epilot.io/v1/webhooks/.well-known/public-key?orgId=739224");
  EXPECT_EQ(*key_endpoint_url(KeyEndpoint::webhooks, "739224", "https://127.0.0.1:8443/"),
            "https://127.0.0.1:8443/v1/webhooks/.well-known/public-key?orgId=739224");
  EXPECT_FALSE(key_endpoint_url(KeyEndpoint::webhooks, "", "").ok());
  EXPECT_FALSE(key_endpoint_url(KeyEndpoint::webhooks, "1&x=2", "").ok());
  EXPECT_FALSE(key_endpoint_url(KeyEndpoint::app, "739224", "").ok());
}

TEST(ParseKeyResponse, AcceptsBothFieldNames) {
  const auto key = key_of(1);
  EXPECT_EQ(*parse_key_response(ok_key(key), "u"), key);
  EXPECT_EQ(*parse_key_response(ok_key(key, "publicKey"), "u"), key);
}

TEST(ParseKeyResponse, RefusesWhatIsNotAnEd25519Key) {
  const auto rsa = test::read_fixture("keys/rsa-2048.pub.pem");
  const std::pair<http::HttpResponse, const char*> cases[] = {
      {{404, "{\"message\":\"Not Found\"}", ""}, "answered 404"},
      {{200, "<html>", ""}, "not with JSON"},
      {{200, "[]", ""}, "not with a JSON object"},
      {{200, "{\"key\": \"x\"}", ""}, "without a public_key"},
      {{200, "{\"public_key\": " + nlohmann::json(rsa).dump() + ", \"algorithm\": \"rsa-sha256\"}", ""}, "not ed25519"},
      {{200, "{\"public_key\": " + nlohmann::json(rsa).dump() + "}", ""}, "RSA"},
  };
  for (const auto& [response, expected] : cases) {
    const auto r = parse_key_response(response, "https://x/");
    ASSERT_FALSE(r.ok()) << response.body;
    EXPECT_EQ(r.error().code, ErrorCode::bad_input);
    EXPECT_NE(r.error().message.find(expected), std::string::npos) << r.error().message;
  }
}

TEST(FetchPublicKey, RetriesConnectionErrorsAnd5xxWithBackoff) {
  ScriptedHttp http;
  http.answers = {make_error(ErrorCode::network, "refused"), http::HttpResponse{502, "", ""}, ok_key(key_of(2))};
  std::vector<std::chrono::milliseconds> waits;
  const auto key = fetch_public_key(http, "https://k/", no_wait(&waits));
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(*key, key_of(2));
  EXPECT_EQ(http.asked.size(), 3u);
  EXPECT_EQ(waits,
            (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(500), std::chrono::milliseconds(1000)}));
}

TEST(FetchPublicKey, GivesUpAfterTheLastAttemptAndNeverRetries4xx) {
  ScriptedHttp down;
  down.answers = {http::HttpResponse{503, "", ""}, http::HttpResponse{503, "", ""}, http::HttpResponse{503, "", ""}};
  const auto r = fetch_public_key(down, "https://k/", no_wait());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::network);
  EXPECT_NE(r.error().message.find("after 3 attempts"), std::string::npos);
  ScriptedHttp missing;
  missing.answers = {http::HttpResponse{404, "", ""}};
  EXPECT_EQ(fetch_public_key(missing, "https://k/", no_wait()).error().code, ErrorCode::bad_input);
  EXPECT_EQ(missing.asked.size(), 1u);
}

TEST(FetchPublicKey, NeverRetriesATimeoutAnUntrustedCertificateOrAServerWithoutTls) {
  for (const auto code : {ErrorCode::timeout, ErrorCode::untrusted, ErrorCode::protocol}) {
    ScriptedHttp http;
    http.answers = {make_error(code, "no"), ok_key(key_of(2))};
    const auto r = fetch_public_key(http, "https://k/", no_wait());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, code);
    EXPECT_EQ(http.asked.size(), 1u);
    EXPECT_EQ(r.error().message.find("attempts"), std::string::npos) << r.error().message;
  }
}

class KeyCacheTest : public test::TempDirTest {
 protected:
  KeyRequest request(CacheMode mode) {
    KeyRequest r;
    r.url = "https://cdn.app.sls.epilot.io/v1/.well-known/public-key";
    r.cache_dir = m_dir + "/keys";
    r.max_age = 100;
    r.mode = mode;
    r.retry = no_wait();
    r.warn = [this](const std::string& w) { m_warnings.push_back(w); };
    return r;
  }

  std::vector<std::string> m_warnings;
};

TEST_F(KeyCacheTest, FetchesOnceThenServesFromTheCacheUntilMaxAge) {
  ScriptedHttp http;
  http.answers = {ok_key(key_of(3)), ok_key(key_of(3))};
  ASSERT_EQ(obtain_key(http, request(CacheMode::normal), 1000)->source, KeySource::network);
  const auto cached = obtain_key(http, request(CacheMode::normal), 1099);
  EXPECT_EQ(cached->source, KeySource::cache);
  EXPECT_EQ(cached->fetched_at, 1000);
  EXPECT_EQ(http.asked.size(), 1u);
  EXPECT_EQ(obtain_key(http, request(CacheMode::normal), 1100)->source, KeySource::network);
  EXPECT_EQ(http.asked.size(), 2u);
  EXPECT_TRUE(m_warnings.empty());
}

TEST_F(KeyCacheTest, ReportsAChangedKey) {
  ScriptedHttp http;
  http.answers = {ok_key(key_of(4)), ok_key(key_of(5))};
  ASSERT_TRUE(obtain_key(http, request(CacheMode::normal), 1000).ok());
  const auto changed = obtain_key(http, request(CacheMode::refresh), 1001);
  ASSERT_TRUE(changed.ok());
  ASSERT_TRUE(changed->replaced.has_value());
  EXPECT_EQ(*changed->replaced, key_of(4));
  ASSERT_EQ(m_warnings.size(), 1u);
  EXPECT_NE(m_warnings[0].find("CHANGED"), std::string::npos);
}

TEST_F(KeyCacheTest, FallsBackToAStaleKeyOnlyWhenTheNetworkFails) {
  ScriptedHttp http;
  http.answers = {ok_key(key_of(6))};
  ASSERT_TRUE(obtain_key(http, request(CacheMode::normal), 1000).ok());
  const auto stale = obtain_key(http, request(CacheMode::normal), 5000);  // the script has no answers left
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->source, KeySource::stale_cache);
  ASSERT_EQ(m_warnings.size(), 1u);
  EXPECT_NE(m_warnings[0].find("fetched 66 min ago"), std::string::npos) << m_warnings[0];
  http.answers = {make_error(ErrorCode::timeout, "no answer within 10 s")};
  EXPECT_EQ(obtain_key(http, request(CacheMode::refresh), 5001)->source, KeySource::stale_cache) << "a timeout too";
  http.answers = {http::HttpResponse{200, "not json", ""}};
  EXPECT_FALSE(obtain_key(http, request(CacheMode::refresh), 5001).ok()) << "a bad answer is not a network failure";
}

TEST_F(KeyCacheTest, DiscardsACorruptEntry) {
  ScriptedHttp http;
  http.answers = {ok_key(key_of(7))};
  ASSERT_TRUE(obtain_key(http, request(CacheMode::normal), 1000).ok());
  const auto path = cache_path(m_dir + "/keys", request(CacheMode::normal).url);
  ASSERT_TRUE(write_file_atomic(path, "{\"url\": 1}", 0644, util::Overwrite::yes).ok());
  const auto offline = obtain_key(http, request(CacheMode::offline), 1001);
  ASSERT_FALSE(offline.ok());
  EXPECT_EQ(offline.error().code, ErrorCode::usage);
  ASSERT_EQ(m_warnings.size(), 1u);
  EXPECT_NE(m_warnings[0].find("corrupt"), std::string::npos);
  EXPECT_FALSE(util::file_exists(path));
}

}  // namespace
}  // namespace epilot
