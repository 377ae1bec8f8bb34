#include "lib/webhook/stream_verify.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <thread>

#include "lib/webhook/capture.hpp"
#include "lib/webhook/capture_json.hpp"
#include "tests/unit/support.hpp"

namespace epilot::webhook {
namespace {

constexpr const char* k_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// A stream of `n` records: every 7th has a wrong signature, every 11th is
// unreadable, every 13th is followed by a blank line.
std::string make_stream(std::size_t n) {
  const auto secret = *parse_secret(k_secret);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 11 == 5) {
      out += "{\"body\": 5}\n";
      continue;
    }
    Capture c;
    c.method = "POST";
    c.body = "{\"n\":" + std::to_string(i) + (i % 17 == 0 ? ",\"pad\":\"" + std::string(700, 'p') + "\"" : "") + "}";
    const auto id = "msg_" + std::to_string(i);
    const auto sig = sign_v1(secret, id, "1614265330", i % 7 == 3 ? "tampered" : c.body);
    c.headers = {{"webhook-id", id}, {"webhook-timestamp", "1614265330"}, {"webhook-signature", sig}};
    auto line = write_capture_json(c, JsonStyle::compact);
    out += line;
    if (i % 13 == 0) {
      out += "\n";
    }
  }
  return out;
}

std::vector<RecordResult> run_stream(const std::string& data, unsigned threads, std::size_t prefix_size) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  // Write from another thread: the pipe holds less than the stream.
  std::thread writer([&] {
    std::size_t off = prefix_size;
    while (off < data.size()) {
      const auto n = ::write(fds[1], data.data() + off, data.size() - off);
      if (n <= 0) {
        break;
      }
      off += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
  });
  VerifyKeys keys;
  keys.secrets.push_back({"s", *parse_secret(k_secret)});
  VerifyPolicy policy;
  policy.now = 1614265330;
  StreamOptions options;
  options.threads = threads;
  options.block_size = 256;  // records span blocks; some are longer than one
  std::vector<RecordResult> results;
  const auto status = verify_stream(fds[0], std::string_view(data).substr(0, prefix_size), keys, VerifyKeys{}, policy,
                                    options, [&](const RecordResult& r) { results.push_back(r); });
  writer.join();
  ::close(fds[0]);
  EXPECT_TRUE(status.ok());
  return results;
}

TEST(VerifyStream, DeliversEveryRecordInOrderWithTheRightVerdict) {
  constexpr std::size_t n = 3000;
  const auto data = make_stream(n);
  for (unsigned threads : {1u, 4u}) {
    const auto results = run_stream(data, threads, 100);
    ASSERT_EQ(results.size(), n) << threads;
    std::size_t expected_line = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& r = results[i];
      ++expected_line;
      EXPECT_EQ(r.index, i);
      EXPECT_EQ(r.line, expected_line);
      if (i % 11 == 5) {
        ASSERT_TRUE(r.error.has_value()) << i;
        EXPECT_NE(r.error->message.find("not a string"), std::string::npos);
        continue;
      }
      if (i % 13 == 0) {
        ++expected_line;  // the blank line after it
      }
      ASSERT_FALSE(r.error.has_value()) << i << ": " << r.error->message;
      EXPECT_EQ(r.verification.id, "msg_" + std::to_string(i));
      EXPECT_EQ(r.verification.ok(), i % 7 != 3) << i;
      EXPECT_EQ(r.reasons.empty(), i % 7 != 3) << i;
    }
  }
}

TEST(VerifyStream, HandlesALastLineWithoutNewlineAndAnEmptyInput) {
  auto data = make_stream(3);
  while (data.back() == '\n') {
    data.pop_back();
  }
  EXPECT_EQ(run_stream(data, 2, 0).size(), 3u);
  EXPECT_EQ(run_stream("", 2, 0).size(), 0u);
  EXPECT_EQ(run_stream("\n\n  \n", 2, 0).size(), 0u);
}

}  // namespace
}  // namespace epilot::webhook
