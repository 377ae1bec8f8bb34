// epilot-action: sign, verify and inspect epilot custom-action requests.
// This file builds the command line, dispatches, and maps every error to an
// exit status, all in one place (see EXIT STATUS in man/epilot-action.1).

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/error_words.hpp"
#include "cli/flags.hpp"
#include "cli/output.hpp"
#include "cli/usage.hpp"

namespace {

// The documented exit statuses.
constexpr int k_exit_ok = 0;
constexpr int k_exit_check_failed = 1;
constexpr int k_exit_usage_or_input = 2;
constexpr int k_exit_network = 3;

int exit_status(epilot::ErrorCode code) {
  switch (code) {
    case epilot::ErrorCode::network:
    case epilot::ErrorCode::untrusted:
    case epilot::ErrorCode::timeout:
    case epilot::ErrorCode::protocol:
      return k_exit_network;
    case epilot::ErrorCode::usage:
    case epilot::ErrorCode::io:
    case epilot::ErrorCode::bad_input:
    case epilot::ErrorCode::bad_key:
      return k_exit_usage_or_input;
  }
  return k_exit_usage_or_input;
}

int exit_status(epilot::cli::Outcome outcome) {
  return outcome == epilot::cli::Outcome::success ? k_exit_ok : k_exit_check_failed;
}

// Output that did not reach its destination (a full disk, a closed pipe) is
// a failure whatever the command did: a new secret printed to nowhere is lost.
int with_output_checked(int status) {
  errno = 0;
  if (std::fflush(stdout) == 0 && std::ferror(stdout) == 0) {
    return status;
  }
  const int err = errno;
  epilot::cli::print_error(epilot::make_error(
      epilot::ErrorCode::io,
      std::string("cannot write the output") + (err != 0 ? ": " + std::string(std::strerror(err)) : "")));
  return k_exit_usage_or_input;
}

// --color, on the tool and on every command, so that it may come anywhere;
// the last one given wins, after the command name over before it.
struct ColourFlags {
  std::string before_command;
  std::string after_command;
};

void add_colour_flags(CLI::App& app, ColourFlags& flags) {
  const auto add = [](CLI::App& on, std::string& mode) {
    on.add_option("--color", mode,
                  "colour the output: auto (on a terminal, unless NO_COLOR or TERM=dumb), always or never")
        ->check(epilot::cli::one_of({"auto", "always", "never"}))
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
        ->type_name("WHEN");
  };
  add(app, flags.before_command);
  for (auto* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    add(*command, flags.after_command);
  }
}

void apply_colour_flags(const ColourFlags& flags) {
  using epilot::cli::ColourMode;
  const auto& mode = flags.after_command.empty() ? flags.before_command : flags.after_command;
  epilot::cli::set_colour_mode(mode == "always"  ? ColourMode::always
                               : mode == "never" ? ColourMode::never
                                                 : ColourMode::automatic);
}

// The first word that is not a flag (nor --color's value): the command.
// `after_flag` says whether it follows a flag that may have taken it as its value.
const char* command_word(int argc, char** argv, bool& after_flag) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--color") {
      ++i;
    } else if (arg.empty() || arg[0] != '-') {
      const std::string_view before = argv[i - 1];
      after_flag = i > 1 && before.size() > 1 && before[0] == '-' && before.find('=') == std::string_view::npos;
      return argv[i];
    }
  }
  return nullptr;
}

// --color as given before the parser has run, for errors found before it.
std::string colour_in_argv(int argc, char** argv) {
  std::string mode;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--color" && i + 1 < argc) {
      mode = argv[++i];
    } else if (arg.rfind("--color=", 0) == 0) {
      mode = arg.substr(8);
    }
  }
  return mode;
}

// Whatever the parse left over, as a usage error from the command it was meant for.
[[noreturn]] void fail_leftovers(const CLI::App& app) {
  for (const auto* command : app.get_subcommands()) {
    if (!command->remaining().empty()) {
      throw epilot::cli::Failure(epilot::cli::unexpected_arguments(*command, command->remaining()));
    }
  }
  throw epilot::cli::Failure(epilot::cli::unexpected_arguments(app, app.remaining()));
}

}  // namespace

// Everything a run can throw is caught below; only building the command
// table comes before the `try`, and a throw there is a bug every test finds.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  using namespace epilot::cli;
  // Past a file-size limit, a write fails with EFBIG and is reported;
  // the default action would kill the process with nothing said.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"epilot-action: sign, verify and inspect epilot custom-action requests"};
  app.name("epilot-action");
  app.formatter(std::make_shared<HelpFormatter>());
  app.set_version_flag("-V,--version", "epilot-action " EPILOT_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'epilot-action help COMMAND' for a command's options, or 'man epilot-action'.");

  const Command commands[] = {register_keygen(app),     register_sign(app),      register_verify(app),
                              register_inspect(app),    register_fetch_key(app), register_listen(app),
                              register_replay(app),     register_check(app),     register_fixtures(app),
                              register_completion(app), register_help(app),      register_version(app)};
  ColourFlags colour;
  add_colour_flags(app, colour);

  try {
    // A mistyped command gets the closest names; when it may be the value of
    // a flag before it and a command comes later (`--colr never verify`),
    // the flag is what gets explained, by the parser.
    const auto names_command = [&](std::string_view word) {
      return std::any_of(std::begin(commands), std::end(commands),
                         [&](const Command& c) { return c.app->get_name() == word; });
    };
    bool after_flag = false;
    const char* word = command_word(argc, argv, after_flag);
    if (word != nullptr && !names_command(word) && !(after_flag && std::any_of(argv + 1, argv + argc, names_command))) {
      colour.before_command = colour_in_argv(argc, argv);
      throw Failure(unknown_command(app, word));
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::ExtrasError&) {
      fail_leftovers(app);
    }
    apply_colour_flags(colour);
    for (const auto& command : commands) {
      if (command.app->parsed()) {
        apply_environment(*command.app);
        return with_output_checked(exit_status(command.run()));
      }
    }
    return k_exit_usage_or_input;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    apply_colour_flags(colour);  // as far as the parse got
    // CLI11 would exit 100-127; the contract says usage errors are 2.
    print_error(epilot::make_error(epilot::ErrorCode::usage, usage_message(e.what()),
                                   {"run 'epilot-action --help' or 'epilot-action help COMMAND'"}));
    return k_exit_usage_or_input;
  } catch (const Failure& e) {
    apply_colour_flags(colour);
    print_error(in_cli_words(e.error()));
    return with_output_checked(exit_status(e.error().code));
  } catch (const std::exception& e) {
    print_error(epilot::make_error(epilot::ErrorCode::io, std::string("internal error: ") + e.what(),
                                   {"please report this at the project's issue tracker"}));
    return k_exit_usage_or_input;
  }
}
