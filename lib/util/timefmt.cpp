#include "lib/util/timefmt.hpp"

#include <array>
#include <cmath>
#include <ctime>
#include <utility>

namespace epilot::util {

std::string iso8601(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) {
    return "(out of range)";
  }
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string describe_duration(std::int64_t seconds) {
  const auto a = seconds < 0 ? -seconds : seconds;
  if (a < 120) {
    return std::to_string(a) + " s";
  }
  if (a < 7200) {
    return std::to_string(a / 60) + " min";
  }
  if (a < 172800) {
    return std::to_string(a / 3600) + " h";
  }
  return std::to_string(a / 86400) + " days";
}

namespace {

constexpr std::int64_t k_max_duration_ms = 100LL * 365 * 86'400'000;

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};
// Longest suffix first, so that "ms" is not read as "m" followed by "s".
constexpr std::array<Unit, 5> k_units{{{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};

// Reads "DIGITS[.DIGITS]" at the front of `text` into `value`; false when there is none.
bool take_number(std::string_view& text, double& value) {
  std::size_t i = 0;
  double whole = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i < 15) {
    whole = whole * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0) {
    return false;
  }
  double fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    const auto start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      fraction += (text[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) {
      return false;
    }
  }
  value = whole + fraction;
  text.remove_prefix(i);
  return true;
}

std::optional<std::int64_t> take_unit(std::string_view& text) {
  for (const auto& unit : k_units) {
    if (text.substr(0, unit.suffix.size()) == unit.suffix) {
      text.remove_prefix(unit.suffix.size());
      return unit.ms;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> parse_duration_ms(std::string_view text) {
  double value = 0;
  if (!take_number(text, value)) {
    return std::nullopt;
  }
  if (text.empty()) {
    // A bare number is seconds.
    const double ms = std::round(value * 1000);
    return ms <= static_cast<double>(k_max_duration_ms) ? std::optional(static_cast<std::int64_t>(ms)) : std::nullopt;
  }
  double total = 0;
  while (true) {
    const auto unit = take_unit(text);
    if (!unit) {
      return std::nullopt;
    }
    total += value * static_cast<double>(*unit);
    if (total > static_cast<double>(k_max_duration_ms)) {
      return std::nullopt;
    }
    if (text.empty()) {
      return static_cast<std::int64_t>(std::round(total));
    }
    if (!take_number(text, value)) {
      return std::nullopt;
    }
  }
}

std::string format_duration_ms(std::int64_t ms) {
  for (auto it = k_units.rbegin(); it != k_units.rend(); ++it) {
    if (ms != 0 && ms % it->ms == 0) {
      return std::to_string(ms / it->ms) + std::string(it->suffix);
    }
  }
  return ms == 0 ? "0s" : std::to_string(ms) + "ms";
}

}  // namespace epilot::util
