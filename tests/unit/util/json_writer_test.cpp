#include "lib/util/json_writer.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>

#include "lib/util/json.hpp"

namespace epilot::util {
namespace {

// What the writer must match byte for byte: nlohmann's compact dump with
// invalid UTF-8 replaced, which every other JSON output of the tool uses.
std::string nlohmann_quoted(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string written(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(AppendJsonString, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(written("plain"), "\"plain\"");
  EXPECT_EQ(written("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(written("\b\t\n\f\r"), "\"\\b\\t\\n\\f\\r\"");
  EXPECT_EQ(written(std::string_view("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(written("K\xC3\xB6ln \xF0\x9F\x94\x91"), "\"K\xC3\xB6ln \xF0\x9F\x94\x91\"") << "UTF-8 is kept";
}

TEST(AppendJsonString, ReplacesWhatIsNotUtf8AsNlohmannDoes) {
  EXPECT_EQ(written("\xff"), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(written("a\xC3"), "\"a\xEF\xBF\xBD\"") << "cut short at the end";
  EXPECT_EQ(written("\xC3(x"), "\"\xEF\xBF\xBD(x\"") << "the byte that broke a sequence is read again";
  EXPECT_EQ(written("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"") << "a surrogate";
  EXPECT_EQ(written("\xE0\x80\x80"), nlohmann_quoted("\xE0\x80\x80")) << "an overlong form";
  EXPECT_EQ(written("\xF4\x90\x80\x80"), nlohmann_quoted("\xF4\x90\x80\x80")) << "above U+10FFFF";
}

// Random bytes weighted towards the interesting ones (lead and continuation
// bytes, controls, quotes): the two must agree on every one of them.
TEST(AppendJsonString, AgreesWithNlohmannOnRandomBytes) {
  std::mt19937 random(12);
  const std::string interesting = "\x80\xBF\xC0\xC1\xC2\xDF\xE0\xED\xEF\xF0\xF4\xF5\xFF\xA0\x9F\x90\x8F\"\\\n\x01 a";
  for (int round = 0; round < 20000; ++round) {
    std::string text(random() % 12, '\0');
    for (auto& c : text) {
      c = random() % 2 == 0 ? interesting[random() % interesting.size()] : static_cast<char>(random() % 256);
    }
    ASSERT_EQ(written(text), nlohmann_quoted(text)) << "round " << round;
  }
}

TEST(JsonQuote, IsTheWritersString) { EXPECT_EQ(json_quote("a\xff\""), written("a\xff\"")); }

TEST(JsonWriter, PlacesCommasBetweenMembersAndElements) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("event").string("request").key("index").number(std::size_t{7});
  w.key("age").number(std::int64_t{-3}).key("id").null().key("ok").boolean(false);
  w.key("list").begin_array();
  w.begin_object().key("a").number(1).end_object();
  w.begin_object().end_object();
  w.string("x").end_array();
  w.key("empty").begin_array().end_array().end_object();
  EXPECT_EQ(out, R"({"event":"request","index":7,"age":-3,"id":null,"ok":false,"list":[{"a":1},{},"x"],"empty":[]})");
  EXPECT_EQ(nlohmann::ordered_json::parse(out).dump(), out) << "as nlohmann writes the same document";
}

}  // namespace
}  // namespace epilot::util
