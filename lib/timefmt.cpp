#include "lib/timefmt.hpp"

#include <ctime>

namespace epilot {

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

}  // namespace epilot
