#include "cli/flags.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "cli/environment.hpp"
#include "cli/output.hpp"
#include "lib/util/constants.hpp"
#include "lib/util/timefmt.hpp"

namespace epilot::cli {

namespace {

std::string in_quotes(const std::string& text) { return "'" + text + "'"; }

// "a, b or c"
std::string in_words(const std::vector<std::string>& choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) {
      out += i + 1 == choices.size() ? " or " : ", ";
    }
    out += choices[i];
  }
  return out;
}

std::string duration_words(DurationBounds bounds) {
  return "from " + util::format_duration_ms(bounds.min.count()) + " to " + util::format_duration_ms(bounds.max.count());
}

// The check every duration flag shares; `whole_seconds` for values counted in seconds.
CLI::Validator duration_check(DurationBounds bounds, bool whole_seconds) {
  return CLI::Validator(
      [bounds, whole_seconds](std::string& text) -> std::string {
        const auto ms = util::parse_duration_ms(text);
        // Digits and units that do not parse are a duration too long to hold.
        const auto digits_end = std::min(text.find_first_not_of("0123456789"), text.size());
        const auto unit = text.substr(digits_end);
        const bool well_formed = digits_end > 0 && (unit.empty() || unit == "ms" || unit == "s" || unit == "m" ||
                                                    unit == "h" || unit == "d");
        if (!ms && well_formed) {
          return "must be " + duration_words(bounds) + ", not " + in_quotes(text);
        }
        if (!ms) {
          return "must be a duration such as 250ms, 10s or 5m (a bare number is seconds), not " + in_quotes(text);
        }
        if (whole_seconds && *ms % 1000 != 0) {
          return "must be whole seconds (such as 30, 30s or 5m), not " + in_quotes(text);
        }
        if (*ms < bounds.min.count() || *ms > bounds.max.count()) {
          return "must be " + duration_words(bounds) + ", not " + in_quotes(text);
        }
        return {};
      },
      "", "duration");
}

template <typename Set>
CLI::Option* add_duration_option(CLI::App& command, const std::string& names, const std::string& description,
                                 DurationBounds bounds, bool whole_seconds, std::int64_t default_ms, Set set) {
  auto* option = command.add_option_function<std::string>(
      names, [set](const std::string& text) { set(*util::parse_duration_ms(text)); }, description);
  option->check(duration_check(bounds, whole_seconds))->type_name("DURATION");
  if (default_ms != 0) {
    option->default_str(util::format_duration_ms(default_ms));
  }
  return option;
}

}  // namespace

CLI::Validator one_of(std::vector<std::string> choices) {
  std::string description = "{";
  for (std::size_t i = 0; i < choices.size(); ++i) {
    description += (i > 0 ? "," : "") + choices[i];
  }
  description += "}";
  return CLI::Validator(
      [choices](std::string& text) -> std::string {
        for (const auto& choice : choices) {
          if (text == choice) {
            return {};
          }
        }
        return "must be " + in_words(choices) + ", not " + in_quotes(text);
      },
      description, "choice");
}

CLI::Validator whole_number(std::int64_t min, std::int64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        std::int64_t value = 0;
        const auto* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        const auto range = "from " + std::to_string(min) + " to " + std::to_string(max);
        if (text.empty() || error == std::errc::invalid_argument || stop != end) {
          return "must be a whole number " + range + ", not " + in_quotes(text);
        }
        if (error == std::errc::result_out_of_range || value < min || value > max) {
          return "must be " + range + ", not " + in_quotes(text);
        }
        return {};
      },
      "", "whole number");
}

CLI::Validator decimal_number(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        double value = 0;
        const auto* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
        std::ostringstream range;
        range << "from " << min << " to " << max;
        if (text.empty() || error != std::errc() || stop != end || !std::isfinite(value)) {
          return "must be a number " + range.str() + ", not " + in_quotes(text);
        }
        if (value < min || value > max) {
          return "must be " + range.str() + ", not " + in_quotes(text);
        }
        return {};
      },
      "", "number");
}

CLI::Option* add_duration(CLI::App& command, const std::string& names, double& seconds, const std::string& description,
                          DurationBounds bounds) {
  return add_duration_option(command, names, description, bounds, false, std::llround(seconds * 1000),
                             [&seconds](std::int64_t ms) { seconds = static_cast<double>(ms) / 1000; });
}

CLI::Option* add_duration(CLI::App& command, const std::string& names, std::int64_t& seconds,
                          const std::string& description, DurationBounds bounds) {
  return add_duration_option(command, names, description, bounds, true, seconds * 1000,
                             [&seconds](std::int64_t ms) { seconds = ms / 1000; });
}

CLI::Option* add_duration(CLI::App& command, const std::string& names, std::chrono::milliseconds& value,
                          const std::string& description, DurationBounds bounds) {
  return add_duration_option(command, names, description, bounds, false, value.count(),
                             [&value](std::int64_t ms) { value = std::chrono::milliseconds(ms); });
}

std::string env_note(const char* name) { return std::string(" [env: ") + name + "]"; }

namespace {

struct EnvironmentBinding {
  const CLI::App* command;
  CLI::Option* option;
  const char* variable;
};

// Filled while the command line is built, before anything runs.
std::vector<EnvironmentBinding>& environment_bindings() {
  static std::vector<EnvironmentBinding> bindings;
  return bindings;
}

}  // namespace

CLI::Option* from_environment(CLI::App& command, CLI::Option* option, const char* variable) {
  environment_bindings().push_back({&command, option, variable});
  option->description(option->get_description() + env_note(variable));
  return option;
}

void apply_environment(const CLI::App& command) {
  for (const auto& binding : environment_bindings()) {
    const char* value = binding.command == &command ? std::getenv(binding.variable) : nullptr;
    if (value == nullptr || *value == '\0' || binding.option->count() > 0) {
      continue;
    }
    try {
      binding.option->add_result(value);
      binding.option->run_callback();
    } catch (const CLI::ParseError& e) {
      // "--tolerance: must be ..." from the check, said of the variable.
      std::string why = e.what();
      why = why.substr(why.find(": ") == std::string::npos ? 0 : why.find(": ") + 2);
      throw Failure(make_error(ErrorCode::usage,
                               std::string(binding.variable) + " (for " + binding.option->get_name() + ") " + why));
    }
  }
}

std::string HelpFormatter::make_option_opts(const CLI::Option* option) const {
  if (!option->get_option_text().empty()) {
    return " " + option->get_option_text();
  }
  if (option->get_type_size() == 0) {
    return {};
  }
  // get_type_name() is "BASE[:VALIDATOR...]"; a choice list reads better than the base.
  const auto full = option->get_type_name();
  const auto choices_at = full.find(":{");
  if (choices_at != std::string::npos) {
    auto choices = full.substr(choices_at + 2, full.find('}', choices_at) - choices_at - 2);
    for (auto& c : choices) {
      c = c == ',' ? '|' : c;
    }
    return " " + choices;
  }
  auto base = full.substr(0, full.find(':'));
  if (base == "INT" || base == "UINT" || base == "FLOAT") {
    base = "N";
  } else if (base == "TEXT") {
    base = "VALUE";
  }
  return " " + base;
}

std::string HelpFormatter::make_option_desc(const CLI::Option* option) const {
  std::string out = option->get_description();
  if (option->get_required()) {
    out += " (required)";
  }
  if (!option->get_default_str().empty()) {
    out += " (default: " + option->get_default_str() + ")";
  }
  return out;
}

}  // namespace epilot::cli

namespace epilot::cli {

CLI::Option* add_url_flag(CLI::App& command, std::string& url, const std::string& description) {
  return from_environment(command, command.add_option("--url", url, description)->type_name("URL"), k_env_url);
}

CLI::Option* add_url_flag(CLI::App& command, std::optional<std::string>& url, const std::string& description) {
  return from_environment(command, command.add_option("--url", url, description)->type_name("URL"), k_env_url);
}

CLI::Option* add_ca_cert_flag(CLI::App& command, std::string& path, const std::string& description) {
  return from_environment(command, command.add_option("--ca-cert", path, description)->type_name("FILE"),
                          k_env_ca_cert);
}

CLI::Option* add_private_key_flag(CLI::App& command, std::string& path, const std::string& description) {
  return from_environment(command, command.add_option("--private-key", path, description)->type_name("FILE"),
                          k_env_private_key);
}

CLI::Option* add_token_file_flag(CLI::App& command, std::string& path, const std::string& description) {
  return command.add_option("--token-file", path, description + env_note(k_env_token_file))->type_name("FILE");
}

CLI::Option* add_timeout_flag(CLI::App& command, double& seconds) {
  return add_duration(command, "--timeout", seconds, "how long a request may take, connecting included",
                      {std::chrono::milliseconds(1), std::chrono::hours(1)});
}

CLI::Option* add_tolerance_flag(CLI::App& command, std::int64_t& seconds, const std::string& description,
                                DurationBounds bounds) {
  return from_environment(command, add_duration(command, "--tolerance", seconds, description, bounds), k_env_tolerance);
}

CLI::Option* add_header_flag(CLI::App& command, std::vector<std::string>& headers, const std::string& description) {
  return command.add_option("-H,--header", headers, description)->allow_extra_args(false)->type_name("HEADER");
}

CLI::Option* add_choice_option(CLI::App& command, const std::string& flag, const std::vector<std::string>& names,
                               std::function<void(std::size_t)> choose, const std::string& description) {
  // Set up as add_option(flag, std::string&) sets up a text option, so that
  // the help, the completion scripts and the errors see no difference.
  auto* option = command.add_option(
      flag,
      [names, choose = std::move(choose)](const CLI::results_t& results) {
        const auto at = std::find(names.begin(), names.end(), results.front());
        if (at == names.end()) {
          return false;
        }
        choose(static_cast<std::size_t>(at - names.begin()));
        return true;
      },
      description);
  option->type_name("TEXT");
  option->type_size(1, 1);
  option->expected(1);
  option->run_callback_for_default();
  return option;
}

CLI::Option* add_format_flag(CLI::App& command, OutputFormat& format, const std::string& description) {
  return add_format_flag(
      command, format, Choices<OutputFormat>{{"text", OutputFormat::text}, {"json", OutputFormat::json}}, description);
}

CLI::Option* add_junit_flag(CLI::App& command, std::string& path, const std::string& description) {
  return command.add_option("--junit", path, description)->type_name("FILE");
}

}  // namespace epilot::cli
