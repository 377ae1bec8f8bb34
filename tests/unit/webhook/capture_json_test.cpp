#include "lib/webhook/capture_json.hpp"

#include <gtest/gtest.h>

#include "tests/unit/support.hpp"

namespace epilot::webhook {
namespace {

std::string error_of(std::string_view data) {
  const auto c = parse_capture_json(data);
  EXPECT_FALSE(c.ok()) << "accepted: " << data;
  if (c.ok()) {
    return "";
  }
  EXPECT_EQ(c.error().code, ErrorCode::bad_input);
  return c.error().message;
}

TEST(ParseCaptureJson, RefusesWhatIsNotACapture) {
  EXPECT_NE(error_of("{}").find("not a capture"), std::string::npos);
  EXPECT_NE(error_of(test::read_fixture("payloads/contact-updated.json")).find("not a capture"), std::string::npos);
  EXPECT_NE(error_of(R"({"method":"GET /x HTTP/1.1\r\nx:","body":""})").find("not an HTTP method"), std::string::npos);
  EXPECT_NE(error_of(R"({"url":"http://x/ HTTP/1.1\r\nx: y","body":""})").find("control byte"), std::string::npos);
}

TEST(ParseCaptureJson, RefusesNestingDeeperThanTheLimit) {
  const std::string deep = R"({"headers":)" + std::string(300000, '[') + std::string(300000, ']') + "}";
  EXPECT_NE(error_of(deep).find("nest deeper"), std::string::npos);
}

TEST(ParseCaptureJson, RefusesMalformedCaptures) {
  EXPECT_NE(error_of("{\"body\": \"a\", \"body_base64\": \"YQ==\"}").find("both"), std::string::npos);
  EXPECT_NE(error_of("{\"body\": 5}").find("not a string"), std::string::npos);
  EXPECT_NE(error_of("{\"headers\": {\"webhook-timestamp\": 1}}").find("strings"), std::string::npos);
  EXPECT_NE(error_of("{\"headers\": 3}").find("object or an array"), std::string::npos);
  EXPECT_NE(error_of("{\"headers\": [[1]]}").find("headers[0]"), std::string::npos);
  EXPECT_NE(error_of("{\"body_base64\": \"!!\"}").find("base64"), std::string::npos);
  EXPECT_NE(error_of("{\"body\": \"\xff\"}").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("{\"body\": \"abc").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("{\"headers\": {\"bad name\": \"x\"}}").find("header name"), std::string::npos);
  EXPECT_NE(error_of("{\"headers\": {\"x\": \"a\\r\\nb\"}}").find("CR, LF"), std::string::npos);
  // Found by fuzz_har: a number too large for a double throws out_of_range, not parse_error.
  EXPECT_NE(error_of("{\"url\": 1E400}").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(std::string_view("{\"body\":\0\"x\"}", 13)).find("NUL byte at offset 8"), std::string::npos);
  EXPECT_EQ(error_of("{\"body\": \"\xff\"}").find("\xff"), std::string::npos) << "invalid bytes are not echoed";
}

TEST(WriteCaptureJson, RoundTripsBinaryBodiesAndRepeatedHeaders) {
  Capture c;
  c.method = "POST";
  c.url = "http://localhost/";
  c.headers = {{"a", "1"}, {"A", "2"}, {"b", "3"}};
  c.body = std::string("\xff\x00\x01", 3);
  const auto text = write_capture_json(c, JsonStyle::compact);
  EXPECT_NE(text.find("body_base64"), std::string::npos);
  EXPECT_EQ(text.find('\n'), text.size() - 1);
  const auto back = parse_capture_json(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->body, c.body);
  ASSERT_EQ(back->headers.size(), 3u);
  EXPECT_EQ(back->headers[1].name, "A");
  EXPECT_EQ(back->headers[1].value, "2");
}

// listen receives header values with bytes above 0x7f; what verified live
// must verify from the file, so they are kept byte for byte.
TEST(WriteCaptureJson, KeepsHeaderValuesThatAreNotUtf8) {
  Capture c;
  c.method = "POST";
  c.url = "http://localhost/";
  c.headers = {{"webhook-id", "msg_1"}, {"x-note", "caf\xe9"}};
  c.body = "{}";
  const auto text = write_capture_json(c, JsonStyle::compact);
  EXPECT_NE(text.find("value_base64"), std::string::npos) << text;
  const auto back = parse_capture_json(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->headers.size(), 2u);
  EXPECT_EQ(back->headers[1].name, "x-note");
  EXPECT_EQ(back->headers[1].value, "caf\xe9");
}

// The usual Express log, `{headers, body: req.body}`: the body comes back as
// its compact serialisation, marked, so that verify can say what happened.
TEST(ParseCaptureJson, ABodyLoggedParsedIsMarkedAndCompact) {
  const auto c = parse_capture_json(test::read_fixture("captures/express-log.json"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->body_parsed);
  EXPECT_EQ(c->body, R"({"test":2432232314})");
  const auto array = parse_capture_json(R"({"headers": {}, "body": [{"b": 1, "a": "\u00fc"}, null]})");
  ASSERT_TRUE(array.ok()) << array.error().message;
  EXPECT_TRUE(array->body_parsed);
  EXPECT_EQ(array->body, "[{\"b\":1,\"a\":\"\xc3\xbc\"},null]");  // key order kept, UTF-8 kept
  const auto text = parse_capture_json(R"({"headers": {}, "body": "{\"a\": 1}"})");
  ASSERT_TRUE(text.ok());
  EXPECT_FALSE(text->body_parsed);
}

TEST(ParseCaptureJson, AStructuredBodyWithoutHeadersIsNoCapture) {
  EXPECT_NE(error_of(R"({"body": {"a": 1}})").find("has 'body' as an object and no 'headers'"), std::string::npos);
  EXPECT_NE(error_of(R"({"headers": {}, "body": 5})").find("'body' is a number, not a string"), std::string::npos);
}

// The library says what is wrong and leaves saying which command writes a
// capture to its caller: the error is typed, not worded for the CLI.
TEST(ParseCaptureJson, ANonCaptureIsTypedForTheCallersHint) {
  for (const auto* text : {R"({"body": {"a": 1}})", R"({"event": "x"})"}) {
    const auto capture = parse_capture_json(text);
    ASSERT_FALSE(capture.ok()) << text;
    EXPECT_EQ(capture.error().about, Subject::not_a_capture) << text;
    EXPECT_TRUE(capture.error().hints.empty()) << text;
  }
  const auto bad_field = parse_capture_json(R"({"headers": {}, "body": 5})");
  ASSERT_FALSE(bad_field.ok());
  EXPECT_EQ(bad_field.error().about, Subject::none);
}

}  // namespace
}  // namespace epilot::webhook
