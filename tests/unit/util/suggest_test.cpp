#include "lib/util/suggest.hpp"

#include <gtest/gtest.h>

#include <array>

namespace epilot::util {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("stale", "stale"), 0u);
  EXPECT_EQ(edit_distance("stael", "stale"), 2u);
  EXPECT_EQ(edit_distance("stal", "stale"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(SimilarNames, ClosestFirstAndPrefixesBeforeTheRest) {
  constexpr std::array<std::string_view, 5> names{"future", "genuine", "genuine-near-edge", "stale", "unsigned"};
  EXPECT_EQ(similar_names("stael", names), (std::vector<std::string>{"stale"}));
  EXPECT_EQ(similar_names("genuin", names), (std::vector<std::string>{"genuine", "genuine-near-edge"}));
  EXPECT_EQ(similar_names("genuine-near", names), (std::vector<std::string>{"genuine-near-edge"}));
  EXPECT_TRUE(similar_names("oversized", names).empty());
}

}  // namespace
}  // namespace epilot::util
