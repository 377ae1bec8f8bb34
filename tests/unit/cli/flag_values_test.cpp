// The flag-value grammars of cli/flag_values: --expect, --expect-repeat,
// --duplicate-answer, --set and --option.
#include <gtest/gtest.h>

#include "cli/flag_values.hpp"

namespace epilot::cli {
namespace {

http::Delivered answered(int status) {
  http::Delivered d;
  d.delivery = http::Delivery::answered;
  d.answer.status = status;
  return d;
}

TEST(ParseExpectation, MatchesStatusesClassesAndAnswerClasses) {
  const auto spec = parse_expectation("201, 4xx ,skipped");
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(expectation_met(*spec, answered(201), AnswerClass::success));
  EXPECT_FALSE(expectation_met(*spec, answered(200), AnswerClass::success));
  EXPECT_TRUE(expectation_met(*spec, answered(200), AnswerClass::skipped));
  EXPECT_TRUE(expectation_met(*spec, answered(409), AnswerClass::other));
  http::Delivered timeout;
  timeout.delivery = http::Delivery::timeout;
  EXPECT_FALSE(expectation_met(*spec, timeout, AnswerClass::timeout));
  EXPECT_TRUE(expectation_met(*parse_expectation("timeout"), timeout, AnswerClass::timeout));
  EXPECT_FALSE(expectation_met(default_expectation(), timeout, AnswerClass::timeout));
}

TEST(ParseExpectation, RejectsWhatItCannotRead) {
  for (const char* bad : {"", "2xy", "99", "600", "succes", "200,,"}) {
    const auto spec = parse_expectation(bad);
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_EQ(spec.error().code, ErrorCode::usage);
  }
}

TEST(ParseExpectRule, SplitsAnInputFromItsSpec) {
  const auto general = parse_expect_rule("2xx");
  ASSERT_TRUE(general.ok());
  EXPECT_EQ(general->input, "");
  const auto named = parse_expect_rule("captures/a=b.json=401");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->input, "captures/a=b.json");
  EXPECT_EQ(named->expectation.text, "401");
  EXPECT_FALSE(parse_expect_rule("=401").ok());
  EXPECT_FALSE(parse_expect_rule("x=").ok());
}

TEST(ParseDuplicateAnswer, ReadsASpecAndABodyText) {
  const auto silent = parse_duplicate_answer("200:duplicate");
  ASSERT_TRUE(silent.ok());
  EXPECT_EQ(silent->body_text, "duplicate");
  EXPECT_EQ(silent->expectation.text, "200:duplicate");
  const auto vague = parse_duplicate_answer("2xx");
  ASSERT_TRUE(vague.ok());
  EXPECT_TRUE(vague->body_text.empty());
  EXPECT_EQ(vague->expectation.any_of.front().status_class, 2);
  EXPECT_EQ(parse_duplicate_answer("208")->expectation.any_of.front().status, 208);
  EXPECT_FALSE(parse_duplicate_answer("200:").ok());
  EXPECT_FALSE(parse_duplicate_answer("abc").ok());
}

TEST(ParseAssignment, SplitsAtTheFirstEquals) {
  EXPECT_EQ(*parse_assignment("a.b=c=d", "--set"), (std::pair<std::string, std::string>{"a.b", "c=d"}));
  EXPECT_EQ(*parse_assignment("a:=1", "--set"), (std::pair<std::string, std::string>{"a:", "1"}));
  EXPECT_FALSE(parse_assignment("novalue", "--set").ok());
  const auto empty_name = parse_assignment("=x", "--option");
  ASSERT_FALSE(empty_name.ok());
  EXPECT_EQ(empty_name.error().message, "--option '=x' is not NAME=VALUE");
}

}  // namespace
}  // namespace epilot::cli
