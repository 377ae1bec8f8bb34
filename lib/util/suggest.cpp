#include "lib/util/suggest.hpp"

#include <algorithm>
#include <utility>

namespace epilot::util {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> similar_names(std::string_view name, std::span<const std::string_view> candidates) {
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto candidate : candidates) {
    const auto distance = edit_distance(name, candidate);
    const bool prefix = name.size() >= 3 && candidate.substr(0, name.size()) == name;
    if (distance <= std::max<std::size_t>(2, name.size() / 3) || prefix) {
      scored.emplace_back(prefix ? 0 : distance, std::string(candidate));
    }
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  out.reserve(scored.size());
  for (auto& [score, n] : scored) {
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace epilot::util
