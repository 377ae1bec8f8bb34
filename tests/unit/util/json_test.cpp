#include "lib/util/json.hpp"

#include <gtest/gtest.h>

namespace epilot::util {
namespace {

TEST(CheckJsonNesting, CountsOnlyBracketsOutsideStrings) {
  EXPECT_TRUE(check_json_nesting(std::string(128, '[') + std::string(128, ']')).ok());
  EXPECT_FALSE(check_json_nesting(std::string(129, '[')).ok());
  // Built with append: GCC 12 warns falsely (-Wrestrict) on literal + string.
  std::string in_string = "\"";
  in_string.append(1000, '[').append("\"");
  EXPECT_TRUE(check_json_nesting(in_string).ok());
  std::string escaped_quote = "\"\\\"";
  escaped_quote.append(1000, '{').append("\"");
  EXPECT_TRUE(check_json_nesting(escaped_quote).ok()) << "an escaped quote";
  std::string escaped_backslash = "[\"\\\\\"";
  escaped_backslash.append(200, '[');
  EXPECT_FALSE(check_json_nesting(escaped_backslash).ok()) << "an escaped backslash ends nothing";
}

// Found in issue 9: 100,000 levels parse (nlohmann parses iteratively) but
// overflow the stack in dump() and in the diagnosis's re-encoders.
TEST(ParseJson, RefusesDeepDocumentsInsteadOfCrashingLater) {
  const auto deep = std::string(100000, '[') + std::string(100000, ']');
  const auto doc = parse_json(deep);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code, ErrorCode::bad_input);
  EXPECT_NE(doc.error().message.find("deeper than 128"), std::string::npos);
  EXPECT_TRUE(parse_json_or_discarded(deep).is_discarded());
}

TEST(ParseJson, SaysWhyWithoutEchoingTheInput) {
  const auto doc = parse_json("{\"a\": \xff}");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().message.find('\xff'), std::string::npos) << doc.error().message;
  EXPECT_FALSE(parse_json("1E400").ok()) << "out_of_range is caught too";
  EXPECT_EQ(parse_json("{\"a\":[1]}")->at("a").size(), 1u);
}

TEST(IndentJson, ChangesOnlyTheLayout) {
  EXPECT_EQ(indent_json(R"({"a":1E2,"b":[12345678901234567890123, {}],"a" : "x\"},[y"})"),
            "{\n  \"a\": 1E2,\n  \"b\": [\n    12345678901234567890123,\n    {}\n  ],\n  \"a\": \"x\\\"},[y\"\n}");
  EXPECT_EQ(indent_json(" [ ] "), "[]");
  EXPECT_EQ(indent_json("\"a\\\\\" 1"), "\"a\\\\\"1");  // an escaped backslash ends no string early
  EXPECT_EQ(indent_json("{\n\t\"k\" :\r\n null }"), "{\n  \"k\": null\n}");
}

TEST(JsonQuote, NeverThrowsOnBytesThatAreNotUtf8) {
  EXPECT_EQ(json_quote("G\xffT"), "\"G\xef\xbf\xbdT\"");
  EXPECT_EQ(json_quote("a\"\n"), "\"a\\\"\\n\"");
}

}  // namespace
}  // namespace epilot::util
