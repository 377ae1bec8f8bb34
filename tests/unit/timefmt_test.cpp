#include "lib/timefmt.hpp"

#include <gtest/gtest.h>

namespace epilot {
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

}  // namespace
}  // namespace epilot
