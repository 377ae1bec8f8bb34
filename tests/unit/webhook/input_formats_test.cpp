#include "lib/webhook/input_formats.hpp"

#include <gtest/gtest.h>

#include "lib/webhook/capture_json.hpp"
#include "lib/webhook/signature.hpp"
#include "tests/unit/support.hpp"

namespace epilot::webhook {
namespace {

TEST(DetectInputFormat, TellsEveryFixtureApart) {
  const std::pair<const char*, InputFormat> cases[] = {
      {"captures/tv-h1.json", InputFormat::json},
      {"captures/tv-h1-pairs.json", InputFormat::json},  // one line, nothing after it
      {"captures/stream.jsonl", InputFormat::json_lines},
      {"captures/chromium.har", InputFormat::har},
      {"captures/tv-h1-crlf.http", InputFormat::raw_http},
  };
  for (const auto& [file, format] : cases) {
    const auto detected = detect_input_format(test::read_fixture(file));
    ASSERT_TRUE(detected.ok()) << file;
    EXPECT_EQ(*detected, format) << file;
  }
}

TEST(ParseRequests, ReadsAnArrayOfCaptures) {
  const auto requests = parse_requests(R"( [{"headers":{"webhook-id":"a"},"body":"x"},
                                           {"method":"PUT","url":"http://h/p","headers":{},"body":"y"}] )");
  ASSERT_TRUE(requests.ok()) << requests.error().message;
  ASSERT_EQ(requests->size(), 2u);
  EXPECT_EQ((*requests)[0].body, "x");
  EXPECT_EQ((*requests)[1].method, "PUT");
  const auto bad = parse_requests(R"([{"headers":{},"body":"x"}, 5])");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("entry 2 of the array"), std::string::npos);
}

TEST(ParseRequests, ReadsStreamsSkippingBlankLines) {
  const auto requests = parse_requests(test::read_fixture("captures/stream.jsonl"));
  ASSERT_TRUE(requests.ok()) << requests.error().message;
  EXPECT_EQ(requests->size(), 3u);
}

TEST(ParseRequests, NamesTheLineOfABadRecord) {
  const auto requests = parse_requests("{\"body\": \"a\"}\n{\"body\": 5}\n");
  ASSERT_FALSE(requests.ok());
  EXPECT_NE(requests.error().message.find("line 2: "), std::string::npos) << requests.error().message;
}

// The fast path and the full reader must agree on every line the fast path accepts.
void expect_same(std::string_view line) {
  const auto fast = parse_capture_fast(line);
  const auto full = parse_capture_json(line);
  ASSERT_TRUE(fast.has_value()) << "fast path refused: " << line;
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(fast->method, full->method);
  EXPECT_EQ(fast->url, full->url);
  EXPECT_EQ(fast->body, full->body);
  ASSERT_EQ(fast->headers.size(), full->headers.size());
  for (std::size_t i = 0; i < fast->headers.size(); ++i) {
    EXPECT_EQ(fast->headers[i].name, full->headers[i].name);
    EXPECT_EQ(fast->headers[i].value, full->headers[i].value);
  }
}

TEST(ParseCaptureFast, AgreesWithTheFullReader) {
  expect_same(R"({"method":"POST","url":"http://x/","headers":{"b":"1","a":"2"},"body":"{\"k\": [1, 2]}"})");
  expect_same(R"({"body":"\u00e9\ud83d\ude00 \\ \/ \b\f\n\r\t","headers":{}})");
  expect_same("{\"body\":\"K\xc3\xb6ln\"}");
  expect_same(R"({"body_base64":"/w==","url":""})");
  expect_same(R"(  { "method" : "PUT" , "body" : "" }  )");
}

TEST(ParseCaptureFast, LeavesAParsedBodyToTheFullReaderAndResetsTheMark) {
  const char* parsed = R"({"headers":{"webhook-id":"msg_1"},"body":{"a":1}})";
  EXPECT_FALSE(parse_capture_fast(parsed).has_value());
  // One Capture reused across a stream: a parsed record must not mark the next.
  Capture reused;
  ASSERT_TRUE(parse_capture_line(parsed, reused).ok());
  EXPECT_TRUE(reused.body_parsed);
  ASSERT_TRUE(parse_capture_line(R"({"headers":{},"body":"{\"a\":1}"})", reused).ok());
  EXPECT_FALSE(reused.body_parsed);
}

TEST(ParseCaptureFast, LeavesEverythingElseToTheFullReader) {
  for (const char* line : {
           R"({"body":"a","body":"b"})",            // duplicate key
           R"({"headers":{"a":"1","a":"2"}})",      // duplicate header
           R"({"headers":[["a","1"]]})",            // pairs
           R"({"body":null})",                      // null
           R"({"extra":"x"})",                      // unknown key
           R"({"body":"\ud800"})",                  // lone surrogate
           R"({"body":"\x"})",                      // bad escape
           "{\"body\":\"\xff\"}",                   // invalid UTF-8
           "{\"body\":\"a\nb\"}",                   // raw control character
           R"({"body":"a"} x)",                     // trailing garbage
           R"({"body_base64":"***"})",              // bad base64
           R"({"headers":{"bad name":"x"}})",       // invalid header name
           R"({"body":"a","body_base64":"YQ=="})",  // both bodies
           "{}",                                    // no headers, no body: not a capture
           R"({"method":"G T","body":""})",         // a method that is not a token
           R"({"url":"http://x/
x: y","body":""})",                                 // a URL with CR LF
       }) {
    EXPECT_FALSE(parse_capture_fast(line).has_value()) << line;
  }
}

TEST(ParseCaptureLine, FallsBackWithTheFullReadersErrors) {
  const auto r = parse_capture_line(R"({"body":"a","body_base64":"YQ=="})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("both"), std::string::npos);
  const auto pairs = parse_capture_line(R"({"headers":[["webhook-id","msg_1"]],"body":"x"})");
  ASSERT_TRUE(pairs.ok());
  EXPECT_EQ(*pairs->find_header("webhook-id"), "msg_1");
}

Capture request(const char* method, std::vector<http::Header> headers) {
  Capture c;
  c.method = method;
  c.headers = std::move(headers);
  return c;
}

TEST(SelectWebhookRequests, KeepsTheRequestsWithWebhookHeaders) {
  const std::vector<Capture> session = {
      request("GET", {{"accept", "text/html"}}),
      request("POST", {{"Webhook-Signature", "v1,x"}}),
      request("POST", {{"content-type", "application/json"}}),
      request("PUT", {{"webhook-id", "msg_1"}}),
      request("POST", {{"svix-id", "msg_2"}}),
  };
  const auto selection = select_webhook_requests(session);
  EXPECT_EQ(selection.rule, WebhookRule::webhook_headers);
  EXPECT_EQ(selection.kept, (std::vector<std::size_t>{1, 3, 4}));
}

TEST(SelectWebhookRequests, KeepsThePostsOfAnExportMadeBeforeSigning) {
  std::vector<Capture> session = {request("GET", {}), request("POST", {}), request("OPTIONS", {}),
                                  request("POST", {{"x", "2"}})};
  const auto selection = select_webhook_requests(session);
  EXPECT_EQ(selection.rule, WebhookRule::posts);
  EXPECT_EQ(selection.kept, (std::vector<std::size_t>{1, 3}));
}

// Every capture fixture holds the TV-H1 request and must verify with its secret.
class CaptureFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(CaptureFixture, ParsesAndVerifies) {
  const auto capture = parse_capture(test::read_fixture("captures/" + GetParam()));
  ASSERT_TRUE(capture.ok()) << capture.error().message;
  EXPECT_EQ(capture->method, "POST");
  VerifyKeys keys;
  keys.secrets.push_back({"tv-h1", *parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")});
  VerifyPolicy policy;
  policy.now = 1614265330;
  EXPECT_EQ(verify_request(*capture, keys, policy).verdict, Verdict::valid);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CaptureFixture,
                         ::testing::Values("tv-h1.json", "tv-h1-pairs.json", "tv-h1-name-value.json", "tv-h1-crlf.http",
                                           "tv-h1-lf.http", "tv-h1-chunked.http", "binary-body.json"));

TEST(ParseCapture, RefusesWhatIsNeitherForm) {
  const auto empty = parse_capture("   ");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);
  const auto other = parse_capture("\x01\x02");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("neither"), std::string::npos);
}

}  // namespace
}  // namespace epilot::webhook
