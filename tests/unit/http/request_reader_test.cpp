#include "lib/http/request_reader.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace epilot::http {
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
        out.refusal = reader.refusal().status;
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

// What a refusal says about the request, for the server to report it.
Refusal refusal_of(std::string in, RequestLimits limits = {}) {
  RequestReader reader(limits);
  EXPECT_EQ(reader.next(in), RequestReader::Step::refuse) << in;
  return reader.refusal();
}

TEST(RequestReader, ARefusalNamesTheMethodAndTargetWhenTheyCanBeRead) {
  RequestLimits small;
  small.max_head = 64;
  small.max_body = 8;
  const auto big = refusal_of("PUT /big HTTP/1.1\r\nContent-Length: 9\r\n\r\n", small);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.method, "PUT");
  EXPECT_EQ(big.target, "/big");
  EXPECT_EQ(refusal_of("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n", small).target, "/c")
      << "refused in the body";
  const auto head = refusal_of("GET /h HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", small);
  EXPECT_EQ(head.status, 431);
  EXPECT_EQ(head.target, "/h");
  const auto field = refusal_of("POST /f HTTP/1.1\r\nbad field\r\n\r\n");
  EXPECT_EQ(field.status, 400);
  EXPECT_EQ(field.method, "POST") << "a later line was wrong, not the request line";
  EXPECT_EQ(field.target, "/f");
}

TEST(RequestReader, ARefusalShowsAnUnreadableRequestLineEscaped) {
  const auto r = refusal_of("GET /\x01\x1b[31m HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.method.empty());
  EXPECT_EQ(r.line, "GET /\\x01\\x1b[31m HTTP/1.1");
  EXPECT_EQ(refusal_of("hello there\r\n\r\n").line, "hello there");
}

TEST(RequestReader, AnAbandonedRequestIsDescribedAsFarAsItCame) {
  RequestReader reader({});
  std::string in = "POST /slow HTTP/1.1\r\nContent-Length: 50\r\n\r\nabc";
  EXPECT_EQ(reader.next(in), RequestReader::Step::need_more);
  reader.abandon(408, "request timeout", "too slow", in);
  EXPECT_EQ(reader.refusal().status, 408);
  EXPECT_EQ(reader.refusal().target, "/slow");
  RequestReader early({});
  std::string partial = "POST /half HTTP/1.1\r\nHost: x";
  EXPECT_EQ(early.next(partial), RequestReader::Step::need_more);
  early.abandon(408, "request timeout", "too slow", partial);
  EXPECT_EQ(early.refusal().method, "POST");
  EXPECT_EQ(early.refusal().target, "/half");
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
}  // namespace epilot::http
