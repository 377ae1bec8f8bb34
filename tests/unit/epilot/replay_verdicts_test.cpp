#include "lib/epilot/replay_verdicts.hpp"

#include "lib/util/bytes.hpp"

#include <gtest/gtest.h>

namespace epilot {
namespace {

http::Delivered answered(int status, std::string body) {
  http::Delivered d;
  d.answer.status = status;
  d.answer.body = std::move(body);
  return d;
}

TEST(Classify, ReadsEpilotsAnswerShapes) {
  EXPECT_EQ(classify(answered(200, "{}")).answer_class, AnswerClass::success);
  EXPECT_EQ(classify(answered(204, "")).answer_class, AnswerClass::success);
  EXPECT_EQ(classify(answered(200, "not json")).answer_class, AnswerClass::success);
  const auto skipped = classify(answered(200, R"({"skip_reason":"no contract"})"));
  EXPECT_EQ(skipped.answer_class, AnswerClass::skipped);
  EXPECT_EQ(skipped.reason, "no contract");
  const auto failed = classify(answered(
      500, R"({"error_output":{"error_code":"E1","error_reason":"IBAN invalid","error_info":{"details":[]}}})"));
  EXPECT_EQ(failed.answer_class, AnswerClass::failed);
  EXPECT_EQ(failed.reason, "E1: IBAN invalid");
  // The failed shape needs an error status; a 200 carrying it is a success.
  EXPECT_EQ(classify(answered(200, R"({"error_output":{"error_reason":"x"}})")).answer_class, AnswerClass::success);
  const auto other = classify(answered(401, "{\"error\":\"bad\nsignature\"}"));
  EXPECT_EQ(other.answer_class, AnswerClass::other);
  EXPECT_EQ(other.reason, "HTTP 401: {\"error\":\"bad signature\"}");
  EXPECT_EQ(classify(answered(302, "")).answer_class, AnswerClass::other);
}

TEST(Classify, TransportFailuresKeepTheirMessage) {
  http::Delivered d;
  d.delivery = http::Delivery::timeout;
  d.error = "no complete answer within 10 ms";
  EXPECT_EQ(classify(d).answer_class, AnswerClass::timeout);
  EXPECT_EQ(classify(d).reason, d.error);
  d.delivery = http::Delivery::unreachable;
  EXPECT_EQ(classify(d).answer_class, AnswerClass::unreachable);
  d.delivery = http::Delivery::broken;
  EXPECT_EQ(classify(d).answer_class, AnswerClass::broken);
}

TEST(Expectation, MatchesStatusesClassesAndAnswerClasses) {
  Expectation spec;
  spec.any_of = {{201, 0, std::nullopt}, {0, 4, std::nullopt}, {0, 0, AnswerClass::skipped}};
  EXPECT_TRUE(expectation_met(spec, answered(201, ""), AnswerClass::success));
  EXPECT_FALSE(expectation_met(spec, answered(200, ""), AnswerClass::success));
  EXPECT_TRUE(expectation_met(spec, answered(200, ""), AnswerClass::skipped));
  EXPECT_TRUE(expectation_met(spec, answered(409, ""), AnswerClass::other));
  http::Delivered timeout;
  timeout.delivery = http::Delivery::timeout;
  EXPECT_FALSE(expectation_met(spec, timeout, AnswerClass::timeout));
  EXPECT_FALSE(expectation_met(default_expectation(), timeout, AnswerClass::timeout));
}

TEST(LatencyHistogram, PercentilesAreWithinThePrecisionOfTheBuckets) {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) {
    h.add(std::chrono::microseconds(i * 100));  // 0.1 ms .. 100 ms
  }
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max(), std::chrono::microseconds(100000));
  const auto near = [](std::chrono::nanoseconds got, double want_us) {
    const double us = static_cast<double>(got.count()) / 1000;
    return us >= want_us && us <= want_us * (1 + 1.0 / 32) + 1;
  };
  EXPECT_TRUE(near(h.percentile(0.5), 50000)) << h.percentile(0.5).count();
  EXPECT_TRUE(near(h.percentile(0.99), 99000)) << h.percentile(0.99).count();
  EXPECT_EQ(h.percentile(1.0), h.max());
  LatencyHistogram other;
  other.add(std::chrono::seconds(2));
  h.merge(other);
  EXPECT_EQ(h.max(), std::chrono::seconds(2));
  EXPECT_EQ(h.count(), 1001u);
  EXPECT_EQ(LatencyHistogram().percentile(0.5).count(), 0);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  h.add(std::chrono::microseconds(7));
  h.add(std::chrono::microseconds(7));
  h.add(std::chrono::microseconds(9));
  // Below 32 us every microsecond has its own bucket.
  EXPECT_EQ(h.percentile(0.5), std::chrono::microseconds(8) - std::chrono::nanoseconds(1));
  EXPECT_EQ(h.percentile(1.0), std::chrono::microseconds(9));
}

TEST(JunitXml, EscapesAndCountsFailures) {
  std::vector<JunitCase> cases(2);
  cases[0].name = "a<b>&\"c\"";
  cases[0].classname = "x";
  cases[0].details = "fine";
  cases[1].name = "second";
  cases[1].classname = "x";
  cases[1].failure = std::string("1 of 2: not met");
  cases[1].details = std::string("bad \x01 byte");
  const auto xml = junit_xml("suite", cases, 1.5, "2026-11-24T00:00:00Z");
  EXPECT_NE(xml.find(R"(<testsuite name="suite" tests="2" failures="1" errors="0" skipped="0" time="1.500")"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find(R"(name="a&lt;b&gt;&amp;&quot;c&quot;")"), std::string::npos);
  EXPECT_NE(xml.find(R"(<failure message="1 of 2: not met" type="expectation">bad   byte</failure>)"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<system-out>fine</system-out>"), std::string::npos);
}

TEST(JunitXml, SkippedCasesAndBytesThatAreNotUtf8) {
  std::vector<JunitCase> cases(2);
  cases[0].name = "left-out";
  cases[0].classname = "x";
  cases[0].skipped = "not named";
  cases[1].name = "bytes";
  cases[1].classname = "x";
  cases[1].failure = std::string("got \xff\xfe<");
  const auto xml = junit_xml("suite", cases, 0, "2026-11-24T00:00:00Z");
  EXPECT_NE(xml.find(R"(tests="2" failures="1" errors="0" skipped="1")"), std::string::npos) << xml;
  EXPECT_NE(xml.find(R"(<skipped message="not named"/>)"), std::string::npos) << xml;
  EXPECT_NE(xml.find("got \xEF\xBF\xBD\xEF\xBF\xBD&lt;"), std::string::npos) << xml;
  EXPECT_TRUE(util::is_valid_utf8(xml));
}

}  // namespace
}  // namespace epilot
