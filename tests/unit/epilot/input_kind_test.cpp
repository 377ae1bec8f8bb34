#include "lib/epilot/input_kind.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "tests/unit/support.hpp"

namespace epilot {
namespace {

// One meaning per file: what every command takes a file for.
TEST(ClassifyInput, CapturesAreCapturesAndEverythingElseIsAPayload) {
  for (const char* file :
       {"captures/tv-h1.json", "captures/tv-h1-pairs.json", "captures/stream.jsonl", "captures/chromium.har",
        "captures/tv-h1-crlf.http", "captures/tv-h1-lf.http", "captures/binary-body.json"}) {
    const auto kind = classify_input(test::read_fixture(file), file);
    ASSERT_TRUE(kind.ok()) << file << ": " << kind.error().message;
    EXPECT_EQ(*kind, InputKind::captures) << file;
  }
  for (const char* file :
       {"payloads/contact-updated.json", "payloads/custom-action.json", "payloads/wait-for-callback.json"}) {
    const auto kind = classify_input(test::read_fixture(file), file);
    ASSERT_TRUE(kind.ok()) << file;
    EXPECT_EQ(*kind, InputKind::payload) << file;
  }
  EXPECT_EQ(*classify_input(R"({"headers":{"x":"{{option.k}}"},"body":{"n":{{unix}}}})", "t.request.json"),
            InputKind::request_template);
  const auto request = classify_input(test::read_fixture("payloads/custom-headers.request.json"),
                                      "fixtures/payloads/custom-headers.request.json");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(*request, InputKind::request_template);
  // The same text under another name is a capture (it has headers), not a template.
  EXPECT_EQ(*classify_input(test::read_fixture("payloads/custom-headers.request.json"), "x.json"), InputKind::captures);
  const std::pair<std::string_view, InputKind> cases[] = {
      {"", InputKind::payload},
      {"hello", InputKind::payload},
      {"Hello world\nsecond line", InputKind::payload},  // a capital, but no request line
      {"[1,2,3]", InputKind::payload},
      {R"({"body":"a string field of an event"})", InputKind::payload},  // no method, url or headers
      {R"({"url":"http://x/","body":"b"})", InputKind::captures},
      {R"({"headers":{},"body":{"parsed":true}})", InputKind::captures},
      {"{\"a\":1}\n{\"b\":2}\n", InputKind::payload_lines},       // JSON Lines of payloads, one request each
      {R"({"id":"{{uuid}}","n":{{unix}}})", InputKind::payload},  // JSON once filled
      {"{{uuid}}", InputKind::payload},
      {"{\"headers\":{},\"body\":\"\"}\n{\"headers\":{},\"body\":\"x\"}\n", InputKind::captures},
      {"POST /hook HTTP/1.1\r\nhost: x\r\n\r\n", InputKind::captures},
      {R"([{"headers":{"webhook-id":"a"},"body":"x"},{"headers":{},"body":"y"}])", InputKind::captures},
      {R"([{"type":"x"}])", InputKind::payload},
  };
  for (const auto& [text, kind] : cases) {
    const auto got = classify_input(text, "in.json");
    ASSERT_TRUE(got.ok()) << text;
    EXPECT_EQ(*got, kind) << text;
  }
}

TEST(ClassifyInput, TextThatStartsAsJsonButIsNotIsAnError) {
  const auto cut = classify_input(R"({"method":"POST","headers":{"a")", "cut.json");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, ErrorCode::bad_input);
  EXPECT_FALSE(classify_input(R"({"n":{{nope}}})", "t.json").ok());
  // Valid JSON nested past what is read as a document is a payload, sent as it is.
  EXPECT_EQ(*classify_input(std::string(100000, '[') + std::string(100000, ']'), "deep.json"), InputKind::payload);
  EXPECT_FALSE(classify_input(std::string(100000, '[') + std::string(99999, ']'), "deep.json").ok());
}

}  // namespace
}  // namespace epilot
