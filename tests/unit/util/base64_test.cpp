#include "lib/util/base64.hpp"

#include <gtest/gtest.h>

namespace epilot::util {
namespace {

TEST(Base64Encode, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(std::string_view("")), "");
  EXPECT_EQ(base64_encode(std::string_view("f")), "Zg==");
  EXPECT_EQ(base64_encode(std::string_view("fo")), "Zm8=");
  EXPECT_EQ(base64_encode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(base64_encode(std::string_view("foob")), "Zm9vYg==");
  EXPECT_EQ(base64_encode(std::string_view("fooba")), "Zm9vYmE=");
  EXPECT_EQ(base64_encode(std::string_view("foobar")), "Zm9vYmFy");
}

TEST(Base64Decode, RoundTripsEveryByteValueAndLength) {
  for (std::size_t len = 0; len < 70; ++len) {
    Bytes data(len);
    for (std::size_t i = 0; i < len; ++i) {
      data[i] = static_cast<std::uint8_t>((i * 37 + len) & 0xff);
    }
    const auto decoded = base64_decode(base64_encode(data));
    ASSERT_TRUE(decoded.has_value()) << len;
    EXPECT_EQ(*decoded, data);
  }
}

TEST(Base64Decode, RejectsMissingPadding) {
  EXPECT_FALSE(base64_decode("Zg"));
  EXPECT_FALSE(base64_decode("Zm8"));
  EXPECT_NE(base64_problem("Zg").find("multiple of 4"), std::string::npos);
}

TEST(Base64Decode, RejectsUrlSafeAlphabetAndNamesIt) {
  EXPECT_FALSE(base64_decode("ab-_"));
  EXPECT_NE(base64_problem("ab-_").find("URL-safe"), std::string::npos);
}

TEST(Base64Decode, RejectsNonCanonicalTrailingBits) {
  // "Zh==" decodes to "f" in lenient decoders; only "Zg==" is canonical.
  EXPECT_FALSE(base64_decode("Zh=="));
  EXPECT_FALSE(base64_decode("Zm9="));
  EXPECT_TRUE(base64_decode("Zm8="));
}

TEST(Base64Decode, RejectsPaddingInTheMiddleWhitespaceAndNul) {
  EXPECT_FALSE(base64_decode("Zg==Zg=="));
  EXPECT_FALSE(base64_decode("Zm9v YmFy"));
  EXPECT_FALSE(base64_decode(std::string_view("Zm9\0", 4)));
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_FALSE(base64_decode("!!!!"));
}

}  // namespace
}  // namespace epilot::util
