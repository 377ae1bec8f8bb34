#pragma once

// The flag vocabulary every command shares, so that a flag name means one
// thing everywhere: value checks whose messages are words ("must be a whole
// number from 1 to 600, not 'abc'"), durations with units, the environment
// variables, and the help layout without CLI11's type names.

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/output.hpp"

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
CLI::Option* add_duration(CLI::App& command, const std::string& names, double& seconds, const std::string& description,
                          DurationBounds bounds);
// Whole seconds only ("1.5s" is refused): for values the spec counts in seconds.
CLI::Option* add_duration(CLI::App& command, const std::string& names, std::int64_t& seconds,
                          const std::string& description, DurationBounds bounds);
CLI::Option* add_duration(CLI::App& command, const std::string& names, std::chrono::milliseconds& value,
                          const std::string& description, DurationBounds bounds);

// `variable` stands in for `option` of `command` when the flag is not on the
// line. Read by apply_environment, once `command` is the one parsed: never
// for another command, never before --help, and a bad value is an error
// that names the variable.
CLI::Option* from_environment(CLI::App& command, CLI::Option* option, const char* variable);
void apply_environment(const CLI::App& command);

// " [env: NAME]", for the help of a flag whose variable the command reads
// itself, by rules CLI11's envname cannot express (a group of flags that
// stand in for each other, or a variable that matters only in some modes).
std::string env_note(const char* name);

// Help that reads "--port N  port (0 picks a free one) (default: 3000)".
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_opts(const CLI::Option* option) const override;
  std::string make_option_desc(const CLI::Option* option) const override;
};

}  // namespace epilot::cli

namespace epilot::cli {

// Flags several commands have, registered in one place so that each name
// keeps one meaning, one value name and one variable everywhere.

// --url URL [env EPILOT_ACTION_URL]: the endpoint (replay, check) or the URL recorded (sign).
CLI::Option* add_url_flag(CLI::App& command, std::string& url, const std::string& description);
CLI::Option* add_url_flag(CLI::App& command, std::optional<std::string>& url, const std::string& description);
// --ca-cert FILE [env EPILOT_ACTION_CA_CERT]: a CA to trust too, for https.
CLI::Option* add_ca_cert_flag(CLI::App& command, std::string& path, const std::string& description);
// --private-key FILE [env EPILOT_ACTION_PRIVATE_KEY]: the Ed25519 key to sign with.
CLI::Option* add_private_key_flag(CLI::App& command, std::string& path, const std::string& description);
// --token-file FILE [env EPILOT_ACTION_TOKEN_FILE]: the x-epilot-token to send.
CLI::Option* add_token_file_flag(CLI::App& command, std::string& path, const std::string& description);
// --timeout DURATION: how long one request may take, connecting included (1ms to 1h).
CLI::Option* add_timeout_flag(CLI::App& command, double& seconds);
// --tolerance DURATION [env EPILOT_ACTION_TOLERANCE]: the clock skew allowed, in whole seconds.
CLI::Option* add_tolerance_flag(CLI::App& command, std::int64_t& seconds, const std::string& description,
                                DurationBounds bounds);
// -H,--header HEADER, repeatable.
CLI::Option* add_header_flag(CLI::App& command, std::vector<std::string>& headers, const std::string& description);
// A flag's values, each name with what it means.
template <typename Value>
using Choices = std::vector<std::pair<std::string, Value>>;
// `flag` NAME sets `value` to the value of NAME as the line is parsed; the
// first choice is the default. It reads as a text option would (help,
// completion, errors): the caller adds the check, one_of(the names).
template <typename Value>
CLI::Option* add_choice_flag(CLI::App& command, const std::string& flag, Value& value, const Choices<Value>& choices,
                             const std::string& description);
// --format, one of `choices`, checked; the first is the default, and shown.
template <typename Format>
CLI::Option* add_format_flag(CLI::App& command, Format& format, const Choices<Format>& choices,
                             const std::string& description);
// --format text|json.
CLI::Option* add_format_flag(CLI::App& command, OutputFormat& format, const std::string& description);
// --junit FILE: a JUnit XML report too.
CLI::Option* add_junit_flag(CLI::App& command, std::string& path, const std::string& description);

}  // namespace epilot::cli

// --- Inline implementations ---

namespace epilot::cli {

// What add_choice_flag does whatever the type: `choose` gets the index of
// the name given.
CLI::Option* add_choice_option(CLI::App& command, const std::string& flag, const std::vector<std::string>& names,
                               std::function<void(std::size_t)> choose, const std::string& description);

template <typename Value>
std::vector<std::string> names_of(const Choices<Value>& choices) {
  std::vector<std::string> names;
  for (const auto& choice : choices) {
    names.push_back(choice.first);
  }
  return names;
}

template <typename Value>
CLI::Option* add_choice_flag(CLI::App& command, const std::string& flag, Value& value, const Choices<Value>& choices,
                             const std::string& description) {
  value = choices.front().second;
  return add_choice_option(
      command, flag, names_of(choices), [&value, choices](std::size_t i) { value = choices[i].second; }, description);
}

template <typename Format>
CLI::Option* add_format_flag(CLI::App& command, Format& format, const Choices<Format>& choices,
                             const std::string& description) {
  return add_choice_flag(command, "--format", format, choices, description)
      ->check(one_of(names_of(choices)))
      ->default_str(choices.front().first);
}

}  // namespace epilot::cli
