#include "lib/epilot/replay_plan.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "lib/util/base64.hpp"
#include "lib/util/crypto.hpp"
#include "lib/webhook/jwt.hpp"
#include "lib/webhook/raw_http.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot {
namespace {

// A counter as randomness, and a clock the test sets: every render is reproducible.
SendContext fixed_context(std::int64_t* now_ms) {
  SendContext context;
  context.now_ms = [now_ms] { return *now_ms; };
  auto counter = std::make_shared<std::uint32_t>(0);
  context.fill.random = [counter](std::uint8_t* out, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      out[i] = static_cast<std::uint8_t>(++*counter * 2654435761u >> 24);
    }
  };
  context.fill.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return context;
}

webhook::PrivateKey test_key() {
  util::Ed25519Seed seed{};
  seed.fill(7);
  return webhook::private_key_from_seed(seed);
}

ReplayItem capture_item(std::string body, std::vector<http::Header> headers) {
  ReplayItem item;
  item.name = item.source = "capture.json";
  item.capture.method = "POST";
  item.capture.headers = std::move(headers);
  item.capture.body = std::move(body);
  return item;
}

// Split a rendered request into its head lines and body.
struct Sent {
  std::string request_line;
  webhook::Capture capture;
};
Sent parse_sent(const http::OutgoingRequest& out) {
  auto raw = webhook::parse_raw_http(out.head + std::string(out.body));
  EXPECT_TRUE(raw.ok()) << out.head;
  return Sent{out.head.substr(0, out.head.find("\r\n")), raw.ok() ? *raw : webhook::Capture{}};
}

ReplayRequestOptions options_with_key() {
  ReplayRequestOptions o;
  o.host = "127.0.0.1:3000";
  o.target = "/hook?x=1";
  o.private_key = test_key();
  return o;
}

TEST(RequestRenderer, ResignsWithAFreshIdAndTheCurrentTime) {
  std::int64_t now = 1'700'000'000'123;
  const std::string body = R"({"type":"external_integration","data":{"org_id":"1"}})";
  auto renderer = RequestRenderer::create({capture_item(body, {{"Webhook-Id", "msg_old"},
                                                               {"webhook-timestamp", "1"},
                                                               {"webhook-signature", "v1a,AAAA"},
                                                               {"Host", "elsewhere"},
                                                               {"Content-Length", "999"},
                                                               {"X-Custom", "kept"}})},
                                          options_with_key(), fixed_context(&now), 1);
  ASSERT_TRUE(renderer.ok()) << renderer.error().message;
  http::OutgoingRequest out;
  (*renderer)->render(0, 0, out);
  const auto sent = parse_sent(out);
  EXPECT_EQ(sent.request_line, "POST /hook?x=1 HTTP/1.1");
  EXPECT_EQ(sent.capture.body, body);
  EXPECT_EQ(*sent.capture.find_header("host"), "127.0.0.1:3000");
  EXPECT_EQ(sent.capture.count_header("host"), 1u);
  EXPECT_EQ(*sent.capture.find_header("content-length"), std::to_string(body.size()));
  EXPECT_EQ(*sent.capture.find_header("x-custom"), "kept");
  EXPECT_EQ(*sent.capture.find_header("content-type"), "application/json");
  EXPECT_EQ(sent.capture.count_header("webhook-id"), 1u);
  const auto id = *sent.capture.find_header("webhook-id");
  EXPECT_NE(id, "msg_old");
  EXPECT_EQ(out.label, id);
  EXPECT_EQ(*sent.capture.find_header("webhook-timestamp"), "1700000000");

  webhook::VerifyKeys keys;
  keys.public_keys.push_back({"test", test_key().public_key});
  webhook::VerifyPolicy policy;
  policy.now = 1'700'000'000;
  EXPECT_TRUE(verify_request(sent.capture, keys, policy).ok());

  // The next send has its own id.
  http::OutgoingRequest again;
  (*renderer)->render(0, 1, again);
  EXPECT_NE(again.label, id);
}

TEST(RequestRenderer, KeepIdReusesTheCapturedId) {
  std::int64_t now = 1'700'000'000'000;
  auto options = options_with_key();
  options.keep_id = true;
  auto renderer =
      RequestRenderer::create({capture_item("{}", {{"webhook-id", "msg_same"}})}, options, fixed_context(&now), 1);
  ASSERT_TRUE(renderer.ok());
  http::OutgoingRequest a;
  http::OutgoingRequest b;
  (*renderer)->render(0, 0, a);
  (*renderer)->render(0, 1, b);
  EXPECT_EQ(a.label, "msg_same");
  EXPECT_EQ(b.label, "msg_same");
}

TEST(RequestRenderer, AsIsSendsTheCapturedHeadersAndBytes) {
  std::int64_t now = 0;
  ReplayRequestOptions options;
  options.host = "h";
  options.target = "/";
  options.mode = SendMode::as_is;
  options.headers.push_back({"x-added", "1"});
  auto renderer = RequestRenderer::create(
      {capture_item("body",
                    {{"webhook-id", "msg_1"}, {"webhook-signature", "v1,abc"}, {"Transfer-Encoding", "chunked"}})},
      options, fixed_context(&now), 1);
  ASSERT_TRUE(renderer.ok());
  http::OutgoingRequest out;
  (*renderer)->render(0, 0, out);
  const auto sent = parse_sent(out);
  EXPECT_EQ(*sent.capture.find_header("webhook-signature"), "v1,abc");
  EXPECT_EQ(sent.capture.count_header("transfer-encoding"), 0u);
  EXPECT_EQ(*sent.capture.find_header("x-added"), "1");
  EXPECT_EQ(sent.capture.body, "body");
  EXPECT_EQ(out.label, "msg_1");
}

TEST(RequestRenderer, FixturesAreFilledAtEverySend) {
  std::int64_t now = 1'700'000'000'000;
  ReplayItem item;
  item.name = item.source = "opportunity-created";
  item.fixture = find_fixture("opportunity-created");
  ASSERT_NE(item.fixture, nullptr);
  auto renderer = RequestRenderer::create({item}, options_with_key(), fixed_context(&now), 1);
  ASSERT_TRUE(renderer.ok());
  http::OutgoingRequest a;
  (*renderer)->render(0, 0, a);
  const std::string first(a.body);
  now += 5000;
  http::OutgoingRequest b;
  (*renderer)->render(0, 1, b);
  EXPECT_EQ(first.find("{{"), std::string::npos);
  EXPECT_NE(first, std::string(b.body)) << "a new uuid and time every time";
}

TEST(RequestRenderer, FixturesCannotBeSentAsIs) {
  std::int64_t now = 0;
  ReplayItem item;
  item.name = "custom-action";
  item.fixture = find_fixture("custom-action");
  ReplayRequestOptions options;
  options.mode = SendMode::as_is;
  const auto renderer = RequestRenderer::create({item}, options, fixed_context(&now), 1);
  ASSERT_FALSE(renderer.ok());
  EXPECT_EQ(renderer.error().code, ErrorCode::usage);
}

TEST(RequestRenderer, RefusesHeadersThatWouldSplitTheRequest) {
  std::int64_t now = 0;
  const auto renderer = RequestRenderer::create({capture_item("{}", {{"x-bad", "a\r\nInjected: 1"}})},
                                                options_with_key(), fixed_context(&now), 1);
  ASSERT_FALSE(renderer.ok());
  EXPECT_NE(renderer.error().message.find("capture.json"), std::string::npos);
}

TEST(RequestRenderer, CallbackRequestsGetTheLocalUrlAndAFreshToken) {
  std::int64_t now = 1'700'000'000'000;
  auto options = options_with_key();
  options.callback_url = "http://127.0.0.1:9/cb";
  auto renderer =
      RequestRenderer::create({capture_item(R"({"data":{"resume_token":"old","callback_post_url":"https://x"}})", {})},
                              options, fixed_context(&now), 1);
  ASSERT_TRUE(renderer.ok());
  std::vector<CallbackRequest> issued;
  (*renderer)->on_callback = [&](const CallbackRequest& c) { issued.push_back(c); };
  http::OutgoingRequest out;
  (*renderer)->render(0, 4, out);
  ASSERT_EQ(issued.size(), 1u);
  EXPECT_EQ(issued[0].job, 4u);
  const auto body = nlohmann::json::parse(out.body);
  EXPECT_EQ(body["data"]["callback_post_url"], "http://127.0.0.1:9/cb");
  EXPECT_EQ(body["data"]["resume_token"], issued[0].resume_token);
  EXPECT_TRUE((*renderer)->is_callback(0));
}

TEST(RequestRenderer, MockTokensCarryEpilotsClaimsAndVerifyUnderTheRunsKey) {
  std::int64_t now = 1'700'000'000'000;
  auto options = options_with_key();
  options.token_mode = TokenMode::mock;
  util::Ed25519Seed seed{};
  seed.fill(9);
  options.token_key = webhook::private_key_from_seed(seed);
  auto renderer = RequestRenderer::create({capture_item(R"({"data":{"org_id":"4711"}})", {{"x-epilot-token", "old"}})},
                                          options, fixed_context(&now), 1);
  ASSERT_TRUE(renderer.ok());
  http::OutgoingRequest out;
  (*renderer)->render(0, 0, out);
  const auto sent = parse_sent(out);
  ASSERT_EQ(sent.capture.count_header("x-epilot-token"), 1u);
  const auto token = *sent.capture.find_header("x-epilot-token");
  const auto jwt = webhook::decode_jwt(token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->header["alg"], "EdDSA");
  EXPECT_EQ(jwt->claims["org_id"], "4711");
  EXPECT_EQ(jwt->claims["token_type"], "app");
  EXPECT_EQ(jwt->claims["iat"], 1'700'000'000);
  EXPECT_EQ(jwt->claims["exp"], 1'700'000'600);
  const auto last_dot = token.rfind('.');
  const auto signature = util::base64url_decode(token.substr(last_dot + 1));
  ASSERT_TRUE(signature && signature->size() == 64);
  EXPECT_TRUE(util::ed25519_verify(options.token_key->public_key.bytes, token.substr(0, last_dot), signature->data()));
}

TEST(WaitsForCallback, LooksAtTheDataOfTheBody) {
  EXPECT_TRUE(waits_for_callback(R"({"data":{"callback_post_url":"u"}})"));
  EXPECT_TRUE(waits_for_callback(R"({"data":{"action_config":{"wait_for_callback":true}}})"));
  EXPECT_FALSE(waits_for_callback(R"({"data":{"action_config":{"wait_for_callback":false}}})"));
  EXPECT_FALSE(waits_for_callback(R"({"resume_token":"x"})"));
  EXPECT_FALSE(waits_for_callback("not json"));
}

TEST(TransportHeaders, AreNeverResent) {
  for (const char* name : {"Host", "content-length", "Transfer-Encoding", "Connection", ":authority", "Expect"}) {
    EXPECT_TRUE(is_transport_header(name)) << name;
  }
  EXPECT_FALSE(is_transport_header("x-epilot-token"));
  EXPECT_FALSE(is_transport_header("content-type"));
}

}  // namespace
}  // namespace epilot
