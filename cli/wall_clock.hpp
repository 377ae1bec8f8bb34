#pragma once
// The one place the CLI reads the wall clock. The library never does: it
// takes the time as a parameter (VerifyPolicy::now, FillContext::now_ms, ...),
// so every read of "now" a command makes is one of these two, and a test
// that pins time with --now finds no other clock to escape through.

#include <cstdint>

namespace epilot::cli {

// Unix seconds.
std::int64_t current_time();
// Unix milliseconds.
std::int64_t current_time_ms();

}  // namespace epilot::cli
