#include "lib/webhook/inspect.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lib/webhook/input_formats.hpp"
#include "tests/unit/support.hpp"

namespace epilot::webhook {
namespace {

TEST(InspectRequest, DescribesAnEpilotCustomAction) {
  const auto capture = parse_capture(test::read_fixture("captures/custom-action-with-token.json"));
  ASSERT_TRUE(capture.ok());
  const auto d = inspect_request(*capture, 1749649159 + 700, 300);
  EXPECT_EQ(d["webhook_id"]["epilot_shape"], true);
  EXPECT_EQ(d["timestamp"]["iso"], "2025-06-11T13:39:19Z");
  EXPECT_EQ(d["timestamp"]["age_seconds"], 700);
  EXPECT_EQ(d["timestamp"]["within_tolerance"], false);
  ASSERT_EQ(d["signature"].size(), 1u);
  EXPECT_EQ(d["signature"][0]["scheme"], "ed25519");
  EXPECT_EQ(d["signature"][0]["bytes"], 64);
  const auto& token = d["epilot_token"];
  EXPECT_EQ(token["verified"], false);
  EXPECT_EQ(token["org_id"], "739224");
  EXPECT_EQ(token["token_type"], "app");
  EXPECT_EQ(token["lifetime_seconds"], 600);
  EXPECT_EQ(token["expired"], true);
  EXPECT_EQ(d["payload"]["type"], "external_integration");
  EXPECT_EQ(d["payload"]["entity"]["schema"], "opportunity");
  EXPECT_EQ(d["payload"]["action_id"], "Jx7kQ2mR");
  EXPECT_EQ(d["body"]["encoding"], "utf-8");
}

TEST(InspectRequest, NeverShowsCredentials) {
  Capture c;
  c.headers = {{"x-epilot-token", "eyJhbGciOiJSUzI1NiJ9.eyJvcmdfaWQiOiIxIn0.c2lnbmF0dXJl"},
               {"Authorization", "Bearer abcdefghijklmnopqrstuvwxyz"}};
  const auto text = inspect_request(c, 0, 300).dump();
  EXPECT_EQ(text.find("c2lnbmF0dXJl"), std::string::npos);
  EXPECT_EQ(text.find("mnopqrstuvwxyz"), std::string::npos);
}

TEST(InspectRequest, ReportsMissingAndMalformedParts) {
  Capture c;
  c.headers = {{"webhook-timestamp", "soon"}, {"webhook-signature", "v1,AAAA v9,x"}};
  c.body = std::string("\xff", 1);
  const auto d = inspect_request(c, 0, 300);
  EXPECT_TRUE(d["webhook_id"].is_null());
  EXPECT_TRUE(d["timestamp"].contains("error"));
  EXPECT_EQ(d["signature"][0]["status"], "wrong length, skipped");
  EXPECT_EQ(d["signature"][1]["status"], "unknown version, skipped");
  EXPECT_EQ(d["body"]["encoding"], "binary");
  EXPECT_TRUE(d["payload"].is_null());
}

TEST(InspectRequest, ReadsSvixHeadersWhereWebhookOnesAreMissingAndSaysSo) {
  const auto capture = parse_capture(test::read_fixture("captures/svix-headers.json"));
  ASSERT_TRUE(capture.ok());
  const auto d = inspect_request(*capture, 1614265330, 300);
  EXPECT_EQ(d["svix_headers"], nlohmann::ordered_json({"svix-id", "svix-timestamp", "svix-signature"}));
  EXPECT_EQ(d["webhook_id"]["header"], "svix-id");
  EXPECT_EQ(d["timestamp"]["header"], "svix-timestamp");
  EXPECT_EQ(d["timestamp"]["within_tolerance"], true);
  ASSERT_EQ(d["signature"].size(), 1u);
  EXPECT_EQ(d["signature"][0]["scheme"], "hmac-sha256");
  const auto standard = inspect_request(*parse_capture(test::read_fixture("captures/tv-h1.json")), 1614265330, 300);
  EXPECT_TRUE(standard["svix_headers"].empty());
  EXPECT_FALSE(standard["webhook_id"].contains("header"));
}

TEST(InspectRequest, MarksABodyLoggedParsed) {
  const auto parsed = parse_capture(test::read_fixture("captures/express-log.json"));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(inspect_request(*parsed, 1614265330, 300)["body"]["parsed"], true);
  const auto raw = parse_capture(test::read_fixture("captures/tv-h1.json"));
  EXPECT_EQ(inspect_request(*raw, 1614265330, 300)["body"]["parsed"], false);
}

}  // namespace
}  // namespace epilot::webhook
