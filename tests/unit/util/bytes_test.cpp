#include "lib/util/bytes.hpp"

#include <gtest/gtest.h>

namespace epilot::util {
namespace {

TEST(IsValidUtf8, AcceptsAsciiAndMultibyte) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("K\xc3\xb6ln \xe2\x82\xac \xf0\x9f\x98\x80"));
}

TEST(IsValidUtf8, RejectsMalformedSequences) {
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x28\xa1"));      // bad continuation
}

TEST(ValidUtf8, ReplacesEveryByteThatStartsNoCharacter) {
  EXPECT_EQ(valid_utf8("K\xc3\xb6ln"), "K\xc3\xb6ln");
  EXPECT_EQ(valid_utf8("a\xff"
                       "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(valid_utf8("\xc3"), "\xef\xbf\xbd") << "cut short";
  EXPECT_EQ(valid_utf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") << "a surrogate, byte by byte";
  EXPECT_TRUE(is_valid_utf8(valid_utf8("\xf4\x90\x80\x80 \xc0\xaf")));
}

TEST(ToHex, IsLowercase) { EXPECT_EQ(to_hex(Bytes{0x00, 0xab, 0xff}), "00abff"); }

TEST(IequalsAscii, IgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals_ascii("Webhook-ID", "webhook-id"));
  EXPECT_FALSE(iequals_ascii("webhook-id", "webhook-i"));
  EXPECT_EQ(to_lower_ascii("Content-TYPE"), "content-type");
}

}  // namespace
}  // namespace epilot::util
