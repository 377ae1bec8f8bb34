#pragma once

// Times as people read them in messages.

#include <cstdint>
#include <string>

namespace epilot {

// "2025-06-11T13:39:19Z" for a unix time.
std::string iso8601(std::int64_t unix_seconds);

// A duration in words, sign ignored: "45 s", "12 min", "3 h", "2 days".
std::string describe_duration(std::int64_t seconds);

}  // namespace epilot
