#include "lib/epilot/inspector.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lib/epilot/action_receiver.hpp"
#include "lib/webhook/capture.hpp"

namespace epilot {
namespace {

constexpr std::int64_t k_now = 1700000000;
constexpr int k_port = 4040;

webhook::Secret secret() { return *webhook::parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); }

// A request as listen received it, signed with the secret (or not).
LoggedRequest received(bool genuine) {
  webhook::Capture c;
  c.method = "POST";
  c.url = "http://tunnel.example/hook?x=1";
  c.body = R"({"type":"external_integration"})";
  const std::string id = genuine ? "msg_good" : "msg_bad";
  const auto t = std::to_string(k_now);
  c.headers = {{"host", "tunnel.example"},
               {"webhook-id", id},
               {"webhook-timestamp", t},
               {"webhook-signature", sign_v1(secret(), id, t, genuine ? c.body : "other")},
               {"x-trace", "1"}};
  ReceiverConfig config;
  config.keys.secrets.push_back({"s", secret()});
  Receiver receiver(config);
  const auto r = receiver.handle(c, k_now);
  LoggedRequest out;
  out.at_ms = k_now * 1000;
  out.method = "POST";
  out.path = "/hook";
  out.webhook_id = id;
  out.verdict = std::string(to_code(r.result.verification.verdict));
  out.status = r.answer.status;
  out.received = r;
  return out;
}

struct Fixture {
  RequestLog log{1 << 20};
  std::vector<std::pair<ReplayTarget, http::wire::Request>> sent;
  std::unique_ptr<Inspector> inspector;

  explicit Fixture(bool with_secret = true, std::string app = "") {
    InspectorConfig config;
    config.page = R"(<meta content="{{token}}"><script nonce="{{nonce}}"></script>)";
    config.listen_url = "http://127.0.0.1:3000";
    config.app_url = std::move(app);
    config.keys.secrets.push_back({"s", secret()});
    if (with_secret) {
      config.secrets.push_back(secret());
    }
    config.now = [] { return k_now + 60; };
    std::uint8_t next = 0;
    config.random = [next](std::uint8_t* out, std::size_t size) mutable {
      for (std::size_t i = 0; i < size; ++i) {
        out[i] = next++;
      }
    };
    config.send = [this](ReplayTarget target, const http::wire::Request& request) {
      sent.emplace_back(target, request);
      http::Forwarded f;
      f.answer.status = 202;
      f.answer.body = "taken";
      return f;
    };
    inspector = std::make_unique<Inspector>(std::move(config), log);
    inspector->set_port(k_port);
    log.add(received(true));
    log.add(received(false));
  }

  InspectorAnswer get(const std::string& path, TextPairs query = {}) {
    return inspector->handle({"GET", path, std::move(query), {{"Host", "127.0.0.1:4040"}}, ""});
  }
  std::string token() {
    const auto page = get("/").body;
    const auto at = page.find("content=\"") + 9;
    return page.substr(at, page.find('"', at) - at);
  }
  InspectorAnswer post(const std::string& path, const std::string& body, TextPairs headers) {
    headers.emplace_back("Host", "localhost:4040");
    return inspector->handle({"POST", path, {}, std::move(headers), body});
  }
};

nlohmann::json json(const InspectorAnswer& answer) { return nlohmann::json::parse(answer.body); }

const std::string* field(const http::wire::Request& r, std::string_view name) {
  for (const auto& h : r.headers) {
    if (h.name == name) {
      return &h.value;
    }
  }
  return nullptr;
}

TEST(Inspector, AnswersOnlyToItsOwnHost) {
  Fixture f;
  for (const auto* host : {"evil.example:4040", "127.0.0.1:4041", "127.0.0.1", "localhost.evil.example:4040"}) {
    const auto answer = f.inspector->handle({"GET", "/api/requests", {}, {{"Host", host}}, ""});
    EXPECT_EQ(answer.status, 403) << host;
    EXPECT_EQ(json(answer)["error"], "forbidden_host");
  }
  EXPECT_EQ(f.inspector->handle({"GET", "/", {}, {}, ""}).status, 403);
  EXPECT_EQ(f.inspector->handle({"GET", "/", {}, {{"host", "localhost:4040"}}, ""}).status, 200);
}

TEST(Inspector, ThePageCarriesTheRunsTokenAndAFreshNonceItsPolicyNames) {
  Fixture f;
  const auto first = f.get("/");
  const auto second = f.get("/");
  EXPECT_EQ(first.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(f.token().size(), 32u);
  EXPECT_EQ(first.body.find("{{"), std::string::npos);
  std::string policy;
  for (const auto& [name, value] : first.headers) {
    if (name == "Content-Security-Policy") {
      policy = value;
    }
  }
  const auto nonce_at = first.body.find("nonce=\"") + 7;
  const auto nonce = first.body.substr(nonce_at, 32);
  EXPECT_NE(policy.find("script-src 'nonce-" + nonce + "'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(second.body.substr(second.body.find("nonce=\"") + 7, 32), nonce);
}

TEST(Inspector, ListsAndRefusesBadParameters) {
  Fixture f;
  auto doc = json(f.get("/api/requests", {{"limit", "1"}}));
  ASSERT_EQ(doc["requests"].size(), 1u);
  EXPECT_EQ(doc["requests"][0]["seq"], 2);
  EXPECT_EQ(doc["more"], true);
  EXPECT_EQ(doc["total"], 2);
  doc = json(f.get("/api/requests", {{"verdict", "ok"}}));
  ASSERT_EQ(doc["requests"].size(), 1u);
  EXPECT_EQ(doc["requests"][0]["webhook_id"], "msg_good");
  for (const auto& [name, value] :
       TextPairs{{"limit", "0"}, {"limit", "-1"}, {"after", "1x"}, {"verdict", "x"}, {"y", ""}}) {
    EXPECT_EQ(f.get("/api/requests", {{name, value}}).status, 400) << name << "=" << value;
  }
  EXPECT_EQ(f.get("/api/requests/3").status, 404);
  EXPECT_EQ(f.get("/api/requests/x").status, 404);
  EXPECT_EQ(f.get("/api/requests/1/other").status, 404);
  EXPECT_EQ(f.post("/api/requests", "", {}).status, 405);
  EXPECT_EQ(f.get("/api/requests/1/replay").status, 405);
}

TEST(Inspector, ShowsARequestWithWhatEachSignatureCameTo) {
  Fixture f;
  auto doc = json(f.get("/api/requests/1"));
  EXPECT_EQ(doc["request"]["verdict"], "valid");
  EXPECT_EQ(doc["signatures"], nlohmann::json::parse(R"([{"version":"v1","outcome":"verified"}])"));
  EXPECT_EQ(doc["matched"]["key"], "s");
  EXPECT_EQ(doc["age_seconds"], 0);
  EXPECT_EQ(doc["body"]["text"], R"({"type":"external_integration"})");
  EXPECT_EQ(doc["body"]["pretty"], "{\n  \"type\": \"external_integration\"\n}");
  EXPECT_EQ(doc["inspect"]["webhook_id"]["value"], "msg_good");
  doc = json(f.get("/api/requests/2"));
  EXPECT_EQ(doc["signatures"][0]["outcome"], "not_verified");
  EXPECT_TRUE(doc["matched"].is_null());

  LoggedRequest refused;
  refused.verdict = "refused";
  refused.status = 413;
  f.log.add(refused);
  doc = json(f.get("/api/requests/3"));
  EXPECT_EQ(doc["refused"], true);
  EXPECT_EQ(f.get("/api/requests/3/capture").status, 404);
}

TEST(Inspector, TheBodyOfABinaryRequestIsBase64Only) {
  Fixture f;
  auto r = received(true);
  webhook::Capture c;
  c.method = "POST";
  c.url = "http://x/";
  c.body = std::string("\xff\x00\x01", 3);
  r.received->request = c;
  f.log.add(r);
  const auto doc = json(f.get("/api/requests/3"));
  EXPECT_TRUE(doc["body"]["text"].is_null());
  EXPECT_TRUE(doc["body"]["pretty"].is_null());
  EXPECT_EQ(doc["body"]["base64"], "/wAB");
  EXPECT_EQ(doc["body"]["bytes"], 3);
}

TEST(Inspector, AReplayNeedsTheTokenAndTheOwnOrigin) {
  Fixture f;
  const auto token = f.token();
  const std::string body = R"({"to":"listen"})";
  EXPECT_EQ(f.post("/api/requests/1/replay", body, {}).status, 403);
  EXPECT_EQ(f.post("/api/requests/1/replay", body, {{"X-Inspector-Token", std::string(32, '0')}}).status, 403);
  EXPECT_EQ(f.post("/api/requests/1/replay", body, {{"X-Inspector-Token", token + "0"}}).status, 403);
  EXPECT_EQ(
      f.post("/api/requests/1/replay", body, {{"X-Inspector-Token", token}, {"Origin", "http://evil.example"}}).status,
      403);
  EXPECT_TRUE(f.sent.empty());
  EXPECT_EQ(f.post("/api/requests/1/replay", body, {{"x-inspector-token", token}, {"Origin", "http://localhost:4040"}})
                .status,
            200);
  EXPECT_EQ(f.sent.size(), 1u);
  for (const auto* bad : {"", "{}", R"({"to":"elsewhere"})", R"({"to":"listen","as_captured":1})", "[1]"}) {
    EXPECT_EQ(f.post("/api/requests/1/replay", bad, {{"X-Inspector-Token", token}}).status, 400) << bad;
  }
  EXPECT_EQ(f.post("/api/requests/1/replay", R"({"to":"app"})", {{"X-Inspector-Token", token}}).status, 409);
  EXPECT_EQ(f.post("/api/requests/9/replay", body, {{"X-Inspector-Token", token}}).status, 404);
}

TEST(Inspector, ReplaysReSignedWithAFreshIdAndTimeOrAsCaptured) {
  Fixture f(true, "http://127.0.0.1:8080/app");
  const auto token = f.token();
  auto doc = json(f.post("/api/requests/2/replay", R"({"to":"app"})", {{"X-Inspector-Token", token}}));
  EXPECT_EQ(doc["status"], 202);
  EXPECT_EQ(doc["body"], "taken");
  ASSERT_EQ(f.sent.size(), 1u);
  const auto& [target, request] = f.sent[0];
  EXPECT_EQ(target, ReplayTarget::app);
  EXPECT_EQ(request.target, "http://tunnel.example/hook?x=1");
  EXPECT_EQ(*field(request, "host"), "tunnel.example");
  EXPECT_EQ(*field(request, "x-trace"), "1");
  const auto& id = *field(request, "webhook-id");
  EXPECT_NE(id, "msg_bad");
  EXPECT_EQ(doc["webhook_id"], id);
  EXPECT_EQ(*field(request, "webhook-timestamp"), std::to_string(k_now + 60));
  EXPECT_EQ(*field(request, "webhook-signature"),
            webhook::sign_v1(secret(), id, std::to_string(k_now + 60), R"({"type":"external_integration"})"));
  std::size_t ids = 0;
  for (const auto& h : request.headers) {
    ids += h.name == "webhook-id" ? 1 : 0;
  }
  EXPECT_EQ(ids, 1u);

  doc = json(f.post("/api/requests/2/replay", R"({"to":"listen","as_captured":true})", {{"X-Inspector-Token", token}}));
  ASSERT_EQ(f.sent.size(), 2u);
  EXPECT_EQ(f.sent[1].first, ReplayTarget::listen);
  EXPECT_EQ(*field(f.sent[1].second, "webhook-id"), "msg_bad");
  EXPECT_EQ(f.sent[1].second.body, R"({"type":"external_integration"})");
}

TEST(Inspector, WithNoKeyToSignWithOnlyAsCapturedIsPossible) {
  Fixture f(false);
  const auto token = f.token();
  EXPECT_EQ(f.post("/api/requests/1/replay", R"({"to":"listen"})", {{"X-Inspector-Token", token}}).status, 409);
  EXPECT_EQ(
      f.post("/api/requests/1/replay", R"({"to":"listen","as_captured":true})", {{"X-Inspector-Token", token}}).status,
      200);
  EXPECT_EQ(json(f.get("/api/info"))["resign"], nlohmann::json::parse(R"({"v1a":false,"v1":0})"));
}

TEST(Inspector, StreamsEventsFromWhereTheClientIsAndSaysWhenItFellBehind) {
  Fixture f;
  auto stream = f.get("/api/events");
  EXPECT_TRUE(stream.event_stream);
  EXPECT_EQ(stream.stream_after, 2u);  // from now on
  EXPECT_EQ(f.inspector->handle({"GET", "/api/events", {}, {{"Host", "127.0.0.1:4040"}, {"Last-Event-ID", "1"}}, ""})
                .stream_after,
            1u);
  std::uint64_t after = 1;
  auto text = f.inspector->next_events(after, std::chrono::milliseconds(1));
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(text->rfind("id: 2\nevent: request\ndata: {\"seq\":2,", 0), 0u) << *text;
  EXPECT_EQ(after, 2u);
  EXPECT_EQ(*f.inspector->next_events(after, std::chrono::milliseconds(1)), "");
  for (int i = 0; i < 150; ++i) {
    f.log.add(received(true));
  }
  text = f.inspector->next_events(after, std::chrono::milliseconds(1));
  EXPECT_NE(text->find("event: gap\ndata: {\"latest\":152}"), std::string::npos);
  EXPECT_EQ(after, 152u);
  f.inspector->close();
  EXPECT_FALSE(f.inspector->next_events(after, std::chrono::seconds(5)).has_value());
}

TEST(Inspector, ADeeplyNestedBodyIsShownRawNotIndented) {
  Fixture f;
  auto r = received(true);
  r.received->request.body = std::string(200000, '[') + std::string(200000, ']');
  f.log.add(r);
  const auto answer = f.get("/api/requests/3");
  ASSERT_EQ(answer.status, 200);
  const auto doc = json(answer);
  EXPECT_TRUE(doc["body"]["pretty"].is_null());
  EXPECT_EQ(doc["body"]["bytes"], 400000);
}

TEST(Inspector, ALargeBodyIsNotIndentedAndItsHexViewIsItsStart) {
  Fixture f;
  auto r = received(true);
  r.received->request.body = "[" + std::string(2 * 1024 * 1024, ' ') + "]";
  f.log.add(r);
  const auto doc = json(f.get("/api/requests/3"));
  EXPECT_TRUE(doc["body"]["pretty"].is_null());
  EXPECT_EQ(doc["body"]["bytes"], 2 * 1024 * 1024 + 2);
  EXPECT_EQ(doc["body"]["base64"].get<std::string>().size(), 64u * 1024 / 3 * 4 + 4);
}

TEST(Inspector, RefusesWhatAnotherSiteAsksFor) {
  Fixture f;
  for (const auto* site : {"cross-site", "same-site"}) {
    const auto answer =
        f.inspector->handle({"GET", "/api/requests", {}, {{"Host", "127.0.0.1:4040"}, {"Sec-Fetch-Site", site}}, ""});
    EXPECT_EQ(answer.status, 403) << site;
    EXPECT_EQ(json(answer)["error"], "cross_site");
  }
  for (const auto* site : {"same-origin", "none"}) {
    EXPECT_EQ(
        f.inspector->handle({"GET", "/api/requests", {}, {{"Host", "127.0.0.1:4040"}, {"Sec-Fetch-Site", site}}, ""})
            .status,
        200)
        << site;
  }
  // Whatever the answer, no other origin may read it.
  bool corp = false;
  for (const auto& [name, value] : f.get("/api/requests/1").headers) {
    corp = corp || (name == "Cross-Origin-Resource-Policy" && value == "same-origin");
  }
  EXPECT_TRUE(corp);
}

TEST(Inspector, AFilterTextIsAtMost256Bytes) {
  Fixture f;
  EXPECT_EQ(f.get("/api/requests", {{"q", std::string(256, 'x')}}).status, 200);
  EXPECT_EQ(f.get("/api/requests", {{"q", std::string(257, 'x')}}).status, 400);
}

TEST(Inspector, HoldsEightEventStreamsAtMost) {
  Fixture f;
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(f.get("/api/events").event_stream) << i;
  }
  EXPECT_EQ(f.get("/api/events").status, 503);
  f.inspector->stream_ended();
  EXPECT_TRUE(f.get("/api/events").event_stream);
}

TEST(Inspector, AStreamGoesOnFromTheLastEventItGotAndNeverFromBeyondTheNewest) {
  Fixture f;
  const auto from = [&](TextPairs query, TextPairs headers) {
    headers.emplace_back("Host", "127.0.0.1:4040");
    return f.inspector->handle({"GET", "/api/events", std::move(query), std::move(headers), ""}).stream_after;
  };
  EXPECT_EQ(from({{"after", "0"}}, {{"Last-Event-ID", "1"}}), 1u);
  EXPECT_EQ(from({{"after", "0"}}, {}), 0u);
  EXPECT_EQ(from({{"after", "18446744073709551615"}}, {}), 2u);
  EXPECT_EQ(from({}, {{"Last-Event-ID", "99"}}), 2u);
}

TEST(Inspector, TheStreamTakesOnlyAfterAndAWrongMethodIsToldWhatIsAllowed) {
  Fixture f;
  EXPECT_EQ(f.get("/api/events", {{"after", "x"}}).status, 400);
  EXPECT_EQ(f.get("/api/events", {{"since", "1"}}).status, 400);
  // A refused stream holds no place among the eight.
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(f.get("/api/events").event_stream) << i;
  }
  const auto wrong = f.post("/api/info", "", {});
  EXPECT_EQ(wrong.status, 405);
  EXPECT_NE(
      std::find(wrong.headers.begin(), wrong.headers.end(), std::pair<std::string, std::string>{"Allow", "GET, HEAD"}),
      wrong.headers.end());
}

TEST(Inspector, ShowsJsonIndentedButOtherwiseAsItCame) {
  Fixture f;
  auto r = received(true);
  r.received->request.body = R"({"n":12345678901234567890123,"role":"user","role":"admin","e":1E2})";
  f.log.add(r);
  EXPECT_EQ(json(f.get("/api/requests/3"))["body"]["pretty"],
            "{\n  \"n\": 12345678901234567890123,\n  \"role\": \"user\",\n  \"role\": \"admin\",\n  \"e\": 1E2\n}");
}

TEST(Inspector, OnPort80TheHostNeedNotSayIt) {
  Fixture f;
  f.inspector->set_port(80);
  EXPECT_EQ(f.inspector->handle({"GET", "/", {}, {{"Host", "127.0.0.1"}}, ""}).status, 200);
  EXPECT_EQ(f.inspector->handle({"GET", "/", {}, {{"Host", "localhost:80"}}, ""}).status, 200);
  EXPECT_EQ(f.inspector->handle({"GET", "/", {}, {{"Host", "127.0.0.1:8080"}}, ""}).status, 403);
}

}  // namespace
}  // namespace epilot
