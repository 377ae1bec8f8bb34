#include "lib/http_request.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace epilot {
namespace {

struct Read {
  std::vector<std::string> targets;
  int refusal = 0;
  bool started = false;
};

// Feed `pieces` as reads from a socket.
Read read_pieces(const std::vector<std::string>& pieces, RequestLimits limits = {}) {
  RequestReader reader(limits);
  Read out;
  std::string in;
  for (const auto& piece : pieces) {
    in += piece;
    while (true) {
      const auto step = reader.next(in);
      if (step == RequestReader::Step::refuse) {
        out.refusal = reader.refusal_status();
        return out;
      }
      if (step == RequestReader::Step::need_more) {
        break;
      }
      out.targets.push_back(reader.take_request().target);
    }
  }
  out.started = reader.started();
  return out;
}

std::vector<std::string> bytes_of(std::string_view text) {
  std::vector<std::string> out;
  for (char c : text) {
    out.emplace_back(1, c);
  }
  return out;
}

TEST(RequestReader, ReadsPipelinedRequestsInAnySplit) {
  const std::string wire =
      "\r\nGET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\r\n";
  const auto whole = read_pieces({wire});
  EXPECT_EQ(whole.targets, (std::vector<std::string>{"/a", "/b", "/c"}));
  EXPECT_FALSE(whole.started) << "the empty line after the last request starts nothing";
  EXPECT_EQ(read_pieces(bytes_of(wire)).targets, whole.targets);
}

// Found by fuzz_server_requests: CRs then LF read one byte at a time were
// dropped as an empty line, while in one read they start a (bad) request.
TEST(RequestReader, OnlyWholeEmptyLinesAreSkippedHoweverTheBytesCome) {
  const std::string wire = "\r\r\r\r\r\r\r\r\r\r\r\r\r\r\n\n\xc7\x8b";
  const auto whole = read_pieces({wire});
  EXPECT_EQ(whole.refusal, 400);
  EXPECT_EQ(read_pieces(bytes_of(wire)).refusal, 400);
  const auto cr_then_lf = read_pieces({"\r", "\nGET /x HTTP/1.1\r\n\r\n"});
  EXPECT_EQ(cr_then_lf.targets, (std::vector<std::string>{"/x"}));
}

TEST(RequestReader, RefusesWithTheRightStatus) {
  RequestLimits small;
  small.max_head = 64;
  small.max_body = 8;
  EXPECT_EQ(read_pieces({"GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n"}, small).refusal, 431);
  EXPECT_EQ(read_pieces({"GET /" + std::string(100, 'a')}, small).refusal, 431) << "before the head ends";
  EXPECT_EQ(read_pieces({"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n"}, small).refusal, 413);
  EXPECT_EQ(read_pieces({"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n"}, small).refusal, 413);
  EXPECT_EQ(read_pieces({"PRI * HTTP/2.0\r\n\r\n"}).refusal, 505);
  EXPECT_EQ(read_pieces({"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"}).refusal, 400);
}

TEST(RequestReader, AsksForContinueOnlyFromHttp11) {
  RequestReader reader({});
  std::string in = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
  EXPECT_EQ(reader.next(in), RequestReader::Step::need_more);
  EXPECT_TRUE(reader.wants_continue());
  RequestReader old({});
  std::string in10 = "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
  EXPECT_EQ(old.next(in10), RequestReader::Step::need_more);
  EXPECT_FALSE(old.wants_continue());
}

}  // namespace
}  // namespace epilot
