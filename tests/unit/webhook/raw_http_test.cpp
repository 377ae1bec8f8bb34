#include "lib/webhook/raw_http.hpp"

#include <gtest/gtest.h>

#include "tests/unit/support.hpp"

namespace epilot::webhook {
namespace {

std::string error_of(std::string_view data) {
  const auto c = parse_raw_http(data);
  EXPECT_FALSE(c.ok()) << "accepted: " << data;
  if (c.ok()) {
    return "";
  }
  EXPECT_EQ(c.error().code, ErrorCode::bad_input);
  return c.error().message;
}

TEST(ParseRawHttp, BuildsTheUrlFromHost) {
  const auto c = parse_raw_http(test::read_fixture("captures/tv-h1-crlf.http"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->url, "http://localhost:3000/hook");
  EXPECT_EQ(c->body, R"({"test": 2432232314})");
}

TEST(ParseRawHttp, DecodesChunkedBodies) {
  const auto c = parse_raw_http(test::read_fixture("captures/tv-h1-chunked.http"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->body, R"({"test": 2432232314})");
}

TEST(ParseRawHttp, RefusesMalformedRequests) {
  EXPECT_NE(error_of("POST /hook HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort").find("truncated"), std::string::npos);
  EXPECT_NE(error_of("POST /hook HTTP/1.1\r\nContent-Length: 2\r\n\r\nabc").find("follow"), std::string::npos);
  EXPECT_NE(error_of("POST /hook HTTP/1.1\r\nContent-Length: x\r\n\r\n").find("Content-Length"), std::string::npos);
  EXPECT_NE(error_of("POST /hook HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n").find("both"),
            std::string::npos);
  EXPECT_NE(error_of("POST /hook HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab").find("truncated"),
            std::string::npos);
  EXPECT_NE(error_of("POST /hook HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").find("chunk size"),
            std::string::npos);
  EXPECT_NE(error_of("POST /hook HTTP/1.1\r\nwebhook-id msg\r\n\r\n").find("no ':'"), std::string::npos);
  EXPECT_NE(error_of("POST /hook HTTP/1.1\r\nx: 1\r\n").find("truncated"), std::string::npos);
  EXPECT_NE(error_of("POST\r\n\r\n").find("request line"), std::string::npos);
  EXPECT_NE(error_of(std::string_view("POST / HTTP/1.1\r\nx: a\0b\r\n\r\n", 27)).find("NUL"), std::string::npos);
}

// Without Content-Length the body is the rest of the file, to the byte: a
// reader that dropped a final CR LF would break every such signature.
TEST(ParseRawHttp, KeepsAFinalCrLfOfABodyWithoutContentLength) {
  const auto c = parse_raw_http(std::string_view("POST /hook HTTP/1.1\r\nHost: h\r\n\r\n{\"a\":1}\r\n"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->body, "{\"a\":1}\r\n");
  const auto lf = parse_raw_http(std::string_view("POST /hook HTTP/1.1\nHost: h\n\nbody\n\n"));
  ASSERT_TRUE(lf.ok()) << lf.error().message;
  EXPECT_EQ(lf->body, "body\n\n");
}

TEST(ParseRawHttp, SpeaksOnlyHttp1) {
  EXPECT_NE(error_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").find("HTTP/1.0 or HTTP/1.1"), std::string::npos);
  EXPECT_NE(error_of("POST / HTTP/7.7\r\n\r\n").find("HTTP/1.0 or HTTP/1.1"), std::string::npos);
  EXPECT_NE(error_of("G\xffT / HTTP/1.1\r\n\r\n").find("G\\xffT"), std::string::npos)
      << "the method is quoted with its byte escaped";
  EXPECT_NE(error_of("POST /a\x01b HTTP/1.1\r\n\r\n").find("visible ASCII"), std::string::npos);
}

TEST(ParseRawHttp, RefusesAHeadLargerThanTheLimit) {
  const std::string line = "POST /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\n\r\n";
  EXPECT_NE(error_of(line).find("larger than"), std::string::npos);
}

TEST(WriteRawHttp, RoundTripsThroughTheRawReader) {
  Capture c;
  c.method = "POST";
  c.url = "http://localhost:3000/hook?x=1";
  c.headers = {{"webhook-id", "msg_1"}, {"content-length", "999"}};
  c.body = "K\xc3\xb6ln\r\n";
  const auto back = parse_raw_http(write_raw_http(c));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->url, c.url);
  EXPECT_EQ(back->body, c.body);
  EXPECT_EQ(*back->find_header("content-length"), "7");
}

}  // namespace
}  // namespace epilot::webhook
