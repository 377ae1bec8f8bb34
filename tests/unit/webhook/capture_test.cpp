#include "lib/webhook/capture.hpp"

#include <gtest/gtest.h>

#include "lib/webhook/capture_json.hpp"
#include "tests/unit/support.hpp"

namespace epilot::webhook {
namespace {

TEST(Capture, FindsCountsAndSetsHeadersIgnoringCase) {
  Capture c;
  c.headers = {{"Webhook-Id", "a"}, {"x", "1"}, {"webhook-id", "b"}};
  ASSERT_NE(c.find_header("WEBHOOK-ID"), nullptr);
  EXPECT_EQ(*c.find_header("webhook-id"), "a");
  EXPECT_EQ(c.find_header("missing"), nullptr);
  EXPECT_EQ(c.count_header("webhook-id"), 2u);
  c.set_header("WEBHOOK-ID", "c");
  ASSERT_EQ(c.headers.size(), 2u);
  EXPECT_EQ(c.headers[1].name, "WEBHOOK-ID");
  EXPECT_EQ(c.headers[1].value, "c");
  c.set_header("y", "2");
  EXPECT_EQ(c.headers.back().name, "y");
}

TEST(DecodedEventBody, DecodesOnlyABase64Event) {
  Capture c;
  c.body = "aGk=";
  EXPECT_EQ(decoded_event_body(c), std::nullopt);
  c.body_base64_event = true;
  EXPECT_EQ(decoded_event_body(c), std::optional<std::string>("hi"));
  c.body = "!!";
  EXPECT_EQ(decoded_event_body(c), std::nullopt);
}

TEST(CaptureFromRequest, MakesTheUrlFromTheHost) {
  http::wire::Request request;
  request.method = "POST";
  request.target = "/hook";
  request.headers = {{"Host", "localhost:3000"}};
  request.body = "{}";
  const auto c = capture_from_request(std::move(request));
  EXPECT_EQ(c.method, "POST");
  EXPECT_EQ(c.url, "http://localhost:3000/hook");
  EXPECT_EQ(c.body, "{}");
}

// A hostile Host header must not make the capture unreadable afterwards.
TEST(RequestUrl, LeavesOutAHostThatCannotBeInAUrl) {
  const std::string good = "localhost:3000";
  const std::string spaced = "a b";
  const std::string binary = "caf\xe9";
  const std::string slashed = "x/y";
  EXPECT_EQ(request_url("/hook?a=1", &good), "http://localhost:3000/hook?a=1");
  EXPECT_EQ(request_url("/hook", &spaced), "/hook");
  EXPECT_EQ(request_url("/hook", &binary), "/hook");
  EXPECT_EQ(request_url("/hook", &slashed), "/hook");
  EXPECT_EQ(request_url("http://h/x", &good), "http://h/x");
  Capture c;
  c.url = request_url("/hook", &spaced);
  c.headers = {{"host", spaced}};
  ASSERT_TRUE(parse_capture_json(write_capture_json(c, JsonStyle::compact)).ok());
}

}  // namespace
}  // namespace epilot::webhook
