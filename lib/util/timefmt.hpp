#pragma once

// Times as people read them in messages.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epilot::util {

// "2025-06-11T13:39:19Z" for a unix time.
std::string iso8601(std::int64_t unix_seconds);

// A duration in words, sign ignored: "45 s", "12 min", "3 h", "2 days".
std::string describe_duration(std::int64_t seconds);

// A duration as people type it, in milliseconds: a number with a unit (ms,
// s, m, h, d), or several ("1m30s"); a bare number is seconds ("2.5" is
// 2500 ms). Fractions are rounded to the millisecond. Nothing for anything
// else: signs, spaces, exponents, unknown units, more than 100 years.
std::optional<std::int64_t> parse_duration_ms(std::string_view text);

// The shortest way to write `ms` that parse_duration_ms reads back exactly:
// "250ms", "10s", "5m", "1d".
std::string format_duration_ms(std::int64_t ms);

}  // namespace epilot::util
