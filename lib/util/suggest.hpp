#pragma once

// "Did you mean": the names close to one nobody has, for error hints.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace epilot::util {

// Levenshtein distance, for short names.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidates close to `name` (within a third of its length, at least 2
// edits, or starting with it when it has 3 characters or more), closest
// first; candidates it begins with come before the rest.
std::vector<std::string> similar_names(std::string_view name, std::span<const std::string_view> candidates);

}  // namespace epilot::util
