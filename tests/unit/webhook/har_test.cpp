#include "lib/webhook/har.hpp"

#include <gtest/gtest.h>

#include "tests/unit/support.hpp"

namespace epilot::webhook {
namespace {

TEST(ParseHar, ReadsEveryChromiumEntryAndDropsPseudoHeaders) {
  const auto captures = parse_har(test::read_fixture("captures/chromium.har"));
  ASSERT_TRUE(captures.ok()) << captures.error().message;
  ASSERT_EQ(captures->size(), 2u);
  const auto& first = (*captures)[0];
  EXPECT_EQ(first.method, "POST");
  EXPECT_EQ(first.url, "http://localhost:3000/hook");
  EXPECT_EQ(first.body, R"({"test": 2432232314})");
  EXPECT_EQ(first.find_header(":authority"), nullptr);
  EXPECT_EQ(first.headers.size(), 4u);
  EXPECT_EQ((*captures)[1].find_header("webhook-signature")->substr(0, 4), "v1a,");
}

TEST(ParseHar, DecodesBase64PostData) {
  const auto captures = parse_har(test::read_fixture("captures/mitmproxy.har"));
  ASSERT_TRUE(captures.ok()) << captures.error().message;
  EXPECT_EQ((*captures)[0].body, std::string("\x7b\xff\xfe\x00\x80\x7d", 6));
}

TEST(ParseHar, RefusesArchivesWithoutRequests) {
  const auto empty = parse_har(test::read_fixture("captures/empty.har"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::bad_input);
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  EXPECT_FALSE(parse_har(R"({"log": {}})").ok());
  EXPECT_FALSE(parse_har(R"({"log": {"entries": {}}})").ok());
  EXPECT_FALSE(parse_har(R"({"log": {"entries": [{}]}})").ok());
  EXPECT_FALSE(parse_har(R"({"log": )").ok());
  EXPECT_FALSE(parse_har(R"({"log": {"entries": 777777777777777E75777777756}})").ok());  // found by fuzz_har
}

TEST(ParseHar, RefusesBodiesItCannotReproduce) {
  const auto params = parse_har(
      R"({"log":{"entries":[{"request":{"method":"POST","url":"http://x/","headers":[],"postData":{"params":[{"name":"a","value":"b"}]}}}]}})");
  ASSERT_FALSE(params.ok());
  EXPECT_NE(params.error().message.find("form params"), std::string::npos);
  const auto bad64 = parse_har(
      R"({"log":{"entries":[{"request":{"method":"POST","url":"http://x/","headers":[],"postData":{"text":"***","encoding":"base64"}}}]}})");
  ASSERT_FALSE(bad64.ok());
  EXPECT_NE(bad64.error().message.find("base64"), std::string::npos);
}

TEST(LooksLikeHar, ChecksTheFirstKey) {
  EXPECT_TRUE(looks_like_har(" {\n \"log\": {}}"));
  EXPECT_FALSE(looks_like_har("{\"method\": \"POST\"}"));
  EXPECT_FALSE(looks_like_har("POST / HTTP/1.1"));
}

}  // namespace
}  // namespace epilot::webhook
