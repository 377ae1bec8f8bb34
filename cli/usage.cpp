#include "cli/usage.hpp"

#include <cctype>
#include <regex>
#include <string_view>

#include "lib/util/suggest.hpp"

namespace epilot::cli {

namespace {

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return names;
}

// Every spelling of every flag of `command`: --long and -s.
std::vector<std::string> flag_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const auto* option : command.get_options()) {
    if (option->get_group().empty()) {
      continue;  // hidden: an old name that is refused, never to be suggested
    }
    for (const auto& name : option->get_lnames()) {
      names.push_back("--" + name);
    }
    for (const auto& name : option->get_snames()) {
      names.push_back("-" + name);
    }
  }
  return names;
}

// "did you mean --format?" for the closest of `candidates`, or nothing.
std::vector<std::string> did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::vector<std::string_view> views(candidates.begin(), candidates.end());
  const auto close = util::similar_names(name, views);
  if (close.empty()) {
    return {};
  }
  std::string hint = "did you mean " + close[0];
  if (close.size() > 1) {
    hint += " or " + close[1];
  }
  return {hint + "?"};
}

// An argument as a message may quote it: a secret or key never is (the
// message may end up in a CI log), and "-Swhsec_..." is the flag -S with a value.
std::string shown(const std::string& arg) {
  std::string word = arg;
  if (word.size() > 2 && word[0] == '-' && word[1] != '-') {
    word = word.substr(0, 2);
  } else if (word[0] == '-') {
    word = word.substr(0, word.find('='));
  }
  const bool secret = word.find("whsec_") != std::string::npos || word.find("whsk_") != std::string::npos ||
                      word.find("PRIVATE KEY") != std::string::npos;
  return secret ? std::string("(a secret, not shown)") : word;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

}  // namespace

Error unknown_command(const CLI::App& app, const std::string& name) {
  const auto names = command_names(app);
  const auto what = shown(name);
  auto hints = what == name ? did_you_mean(name, names) : std::vector<std::string>{};
  hints.push_back("the commands are: " + joined(names));
  return make_error(ErrorCode::usage, what == name ? "unknown command '" + name + "'" : "unknown command " + what,
                    std::move(hints));
}

Error unexpected_arguments(const CLI::App& command, const std::vector<std::string>& leftovers) {
  const auto where = command.get_parent() == nullptr ? std::string() : " for " + command.get_name();
  const auto help = command.get_parent() == nullptr ? std::string("epilot-action --help")
                                                    : "epilot-action " + command.get_name() + " --help";
  for (const auto& arg : leftovers) {
    if (arg.size() > 1 && arg[0] == '-') {
      const auto flag = shown(arg);
      auto hints = did_you_mean(flag, flag_names(command));
      hints.push_back("'" + help + "' lists them all");
      return make_error(ErrorCode::usage, "unknown flag " + flag + where, std::move(hints));
    }
  }
  const auto what = leftovers.empty()                               ? std::string()
                    : shown(leftovers.front()) != leftovers.front() ? " " + shown(leftovers.front())
                                                                    : " '" + leftovers.front() + "'";
  return make_error(ErrorCode::usage, "unexpected argument" + what + where, {"see '" + help + "'"});
}

std::string usage_message(std::string message) {
  // CLI11's own wordings, said as people would; anything else as it is.
  static const std::pair<std::regex, const char*> k_rewrites[] = {
      {std::regex("^(\\S+): At Most 1 required but received (\\d+)$"), "$1 was given $2 times: give it once"},
      {std::regex("^(\\S+): \\d+ required \\S+ missing$"), "$1 needs a value"},
      {std::regex("^(\\S+): File does not exist: (.*)$"), "$1 $2: no such file"},
      {std::regex("^(\\S+): File is actually a directory: (.*)$"), "$1 $2 is a folder, not a file"},
      // Our validators' messages start with "must": "--port: must be" reads "--port must be".
      {std::regex("^(\\S+): must "), "$1 must "},
  };
  for (const auto& [pattern, replacement] : k_rewrites) {
    if (std::regex_search(message, pattern)) {
      message = std::regex_replace(message, pattern, replacement);
      break;
    }
  }
  if (!message.empty()) {
    message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
  }
  return message;
}

}  // namespace epilot::cli
