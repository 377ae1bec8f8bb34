#pragma once

// The flag vocabulary every command shares, so that a flag name means one
// thing everywhere: value checks whose messages are words ("must be a whole
// number from 1 to 600, not 'abc'"), durations with units, the environment
// variables, and the help layout without CLI11's type names.

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace epilot::cli {

// One of `choices`. Its description is "{a,b,c}", the form the completion
// scripts read the choices back from.
CLI::Validator one_of(std::vector<std::string> choices);

// A whole number in [min, max].
CLI::Validator whole_number(std::int64_t min, std::int64_t max);

// A decimal number in [min, max].
CLI::Validator decimal_number(double min, double max);

// Durations: "250ms", "2s", "1m", "1m30s"; a bare number is seconds. The
// bounds are checked in milliseconds and named in the error.
struct DurationBounds {
  std::chrono::milliseconds min{0};
  std::chrono::milliseconds max{std::chrono::hours(24 * 365)};
};
CLI::Option* add_duration(CLI::App& command, const std::string& names, double& seconds,
                          const std::string& description, DurationBounds bounds);
// Whole seconds only ("1.5s" is refused): for values the spec counts in seconds.
CLI::Option* add_duration(CLI::App& command, const std::string& names, std::int64_t& seconds,
                          const std::string& description, DurationBounds bounds);
CLI::Option* add_duration(CLI::App& command, const std::string& names, std::chrono::milliseconds& value,
                          const std::string& description, DurationBounds bounds);

// Help that reads "--port N  port (0 picks a free one) (default: 3000)".
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* option) const override;
  std::string make_option_desc(const CLI::Option* option) const override;
};

}  // namespace epilot::cli
