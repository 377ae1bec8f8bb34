#include "lib/http/response_reader.hpp"

#include <gtest/gtest.h>

#include <string>

namespace epilot::http {
namespace {

using State = ResponseParser::State;

// Feed `wire` in pieces of `step` bytes; returns the final state.
State feed_in_pieces(ResponseParser& parser, const std::string& wire, std::size_t step) {
  State state = State::need_more;
  for (std::size_t pos = 0; pos < wire.size() && state == State::need_more; pos += step) {
    state = parser.feed(std::string_view(wire).substr(pos, step));
  }
  return state;
}

TEST(ResponseParser, ReadsContentLengthBodyInAnySplit) {
  const std::string wire =
      "HTTP/1.1 422 Unprocessable Entity\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"b "
      "c\"}";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    ResponseParser parser;
    ASSERT_EQ(feed_in_pieces(parser, wire, step), State::complete) << step;
    EXPECT_EQ(parser.answer().status, 422);
    EXPECT_EQ(parser.answer().reason, "Unprocessable Entity");
    EXPECT_EQ(parser.answer().content_type, "application/json");
    EXPECT_EQ(parser.answer().body, "{\"a\":\"b c\"}");
    EXPECT_TRUE(parser.answer().keep_alive);
  }
}

TEST(ResponseParser, DecodesChunkedBodiesWithExtensionsAndTrailers) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"sk\r\nF\r\nip_reason\":\"x\"}\r\n0\r\nX-T: "
      "1\r\n\r\n";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    ResponseParser parser;
    ASSERT_EQ(feed_in_pieces(parser, wire, step), State::complete) << step;
    EXPECT_EQ(parser.answer().body, "{\"skip_reason\":\"x\"}");
  }
}

TEST(ResponseParser, TheHeadEndsAtTheFirstBlankLineOfEitherKind) {
  // Found by fuzz_http_response: a bare-LF blank line before a CRLF one in the body.
  const std::string wire = "HTTP/1.1 200 OK\nContent-Length: 6\n\nab\r\n\r\n";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    ResponseParser parser;
    ASSERT_EQ(feed_in_pieces(parser, wire, step), State::complete) << step;
    EXPECT_EQ(parser.answer().body, "ab\r\n\r\n") << step;
  }
}

TEST(ResponseParser, LeavesBytesAfterTheAnswerUnconsumed) {
  ResponseParser parser;
  const std::string wire = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n";
  ASSERT_EQ(parser.feed(wire), State::complete);
  EXPECT_EQ(parser.consumed(), std::string("HTTP/1.1 204 No Content\r\n\r\n").size());
  EXPECT_EQ(parser.answer().status, 204);
}

TEST(ResponseParser, SkipsInterimAnswers) {
  ResponseParser parser;
  ASSERT_EQ(parser.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"),
            State::complete);
  EXPECT_EQ(parser.answer().status, 201);
  EXPECT_EQ(parser.answer().body, "{}");
}

TEST(ResponseParser, BodyUntilCloseCompletesOnlyAtTheEnd) {
  ResponseParser parser;
  EXPECT_EQ(parser.feed("HTTP/1.0 500 Oops\n\npartial"), State::need_more);
  EXPECT_EQ(parser.feed(" body"), State::need_more);
  EXPECT_EQ(parser.finish(), State::complete);
  EXPECT_EQ(parser.answer().body, "partial body");
  EXPECT_FALSE(parser.answer().keep_alive);
}

TEST(ResponseParser, ConnectionHeadersDecideKeepAlive) {
  ResponseParser close_parser;
  ASSERT_EQ(close_parser.feed("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n"), State::complete);
  EXPECT_FALSE(close_parser.answer().keep_alive);
  ResponseParser http10;
  ASSERT_EQ(http10.feed("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"), State::complete);
  EXPECT_TRUE(http10.answer().keep_alive);
}

TEST(ResponseParser, HeadAnswersHaveNoBody) {
  ResponseParser parser(true);
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"), State::complete);
  EXPECT_EQ(parser.answer().body, "");
}

TEST(ResponseParser, RejectsWhatIsNotHttp) {
  for (const std::string wire : {"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                                 "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
                                 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                                 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    ResponseParser parser;
    EXPECT_EQ(parser.feed(wire), State::error) << wire;
    EXPECT_FALSE(parser.error().empty());
  }
}

TEST(ResponseParser, EnforcesItsLimits) {
  ResponseParser small(false, 10);
  EXPECT_EQ(small.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"), State::error);
  ResponseParser chunks(false, 10);
  EXPECT_EQ(chunks.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n"), State::error);
  ResponseParser head;
  EXPECT_EQ(head.feed("HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'a')), State::error);
}

TEST(ResponseParser, AnEarlyCloseIsAnErrorThatSaysWhetherAnythingCame) {
  ResponseParser nothing;
  EXPECT_EQ(nothing.finish(), State::error);
  EXPECT_FALSE(nothing.started());
  ResponseParser half;
  EXPECT_EQ(half.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), State::need_more);
  EXPECT_EQ(half.finish(), State::error);
  EXPECT_TRUE(half.started());
}

TEST(ResponseParser, ResetReadsTheNextAnswer) {
  ResponseParser parser;
  ASSERT_EQ(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"), State::complete);
  parser.reset();
  ASSERT_EQ(parser.feed("HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb"), State::complete);
  EXPECT_EQ(parser.answer().status, 404);
  EXPECT_EQ(parser.answer().body, "b");
}

}  // namespace
}  // namespace epilot::http
