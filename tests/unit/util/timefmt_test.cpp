#include "lib/util/timefmt.hpp"

#include <gtest/gtest.h>

namespace epilot::util {
namespace {

TEST(Iso8601, FormatsUtc) {
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601(1749649159), "2025-06-11T13:39:19Z");
}

TEST(DescribeDuration, PicksAUnitAndIgnoresTheSign) {
  EXPECT_EQ(describe_duration(0), "0 s");
  EXPECT_EQ(describe_duration(-119), "119 s");
  EXPECT_EQ(describe_duration(120), "2 min");
  EXPECT_EQ(describe_duration(7200), "2 h");
  EXPECT_EQ(describe_duration(3 * 86400), "3 days");
}

TEST(ParseDuration, ReadsUnitsAndBareSeconds) {
  EXPECT_EQ(parse_duration_ms("250ms"), 250);
  EXPECT_EQ(parse_duration_ms("2s"), 2000);
  EXPECT_EQ(parse_duration_ms("1m"), 60'000);
  EXPECT_EQ(parse_duration_ms("1h"), 3'600'000);
  EXPECT_EQ(parse_duration_ms("1d"), 86'400'000);
  EXPECT_EQ(parse_duration_ms("1m30s"), 90'000);
  EXPECT_EQ(parse_duration_ms("10"), 10'000);
  EXPECT_EQ(parse_duration_ms("2.5"), 2500);
  EXPECT_EQ(parse_duration_ms("0.25s"), 250);
  EXPECT_EQ(parse_duration_ms("1.5m"), 90'000);
  EXPECT_EQ(parse_duration_ms("0"), 0);
}

TEST(ParseDuration, RefusesEverythingElse) {
  for (const char* text : {"", "s", "-1", "+1", "1 s", " 1", "1e3", "1x", "1.s", ".5", "1ms5", "1sm", "1mss", "nan",
                           "inf", "0x10", "99999999999999999999", "36501d"}) {
    EXPECT_FALSE(parse_duration_ms(text).has_value()) << text;
  }
}

TEST(FormatDuration, ReadsBackExactly) {
  EXPECT_EQ(format_duration_ms(250), "250ms");
  EXPECT_EQ(format_duration_ms(10'000), "10s");
  EXPECT_EQ(format_duration_ms(300'000), "5m");
  EXPECT_EQ(format_duration_ms(86'400'000), "1d");
  EXPECT_EQ(format_duration_ms(1500), "1500ms");
  EXPECT_EQ(format_duration_ms(0), "0s");
  for (std::int64_t ms : {1, 999, 1000, 61'000, 3'600'000, 90'061'001}) {
    EXPECT_EQ(parse_duration_ms(format_duration_ms(ms)), ms) << ms;
  }
}

}  // namespace
}  // namespace epilot::util
