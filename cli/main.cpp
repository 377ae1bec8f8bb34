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

#include "cli/commands.hpp"
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
      epilot::ErrorCode::io, std::string("cannot write the output") + (err != 0 ? ": " + std::string(std::strerror(err)) : "")));
  return k_exit_usage_or_input;
}

// --color, on the tool and on every command, so that it may come anywhere.
void add_colour_flag(CLI::App& app, std::string& mode) {
  const auto add = [&mode](CLI::App& on) {
    on.add_option("--color", mode, "colour the output: auto (on a terminal, unless NO_COLOR or TERM=dumb), always or never")
        ->check(epilot::cli::one_of({"auto", "always", "never"}))
        ->type_name("WHEN");
  };
  add(app);
  for (auto* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    add(*command);
  }
}

void apply_colour_flag(const std::string& mode) {
  using epilot::cli::ColourMode;
  epilot::cli::set_colour_mode(mode == "always" ? ColourMode::always
                               : mode == "never" ? ColourMode::never
                                                 : ColourMode::automatic);
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

  const Command commands[] = {register_keygen(app),   register_sign(app),     register_verify(app),
                              register_inspect(app),  register_fetch_key(app), register_listen(app),
                              register_replay(app),   register_check(app),    register_fixtures(app),
                              register_completion(app), register_help(app), register_version(app)};
  std::string colour = "auto";
  add_colour_flag(app, colour);
  // A command with a parse-complete callback reads its EPILOT_ACTION_*
  // variables when it is the one parsed, and only then; without one, CLI11
  // reads (and checks) every command's variables on every run, so a value
  // meant for one command could fail another.
  for (auto* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    command->parse_complete_callback([] {});
  }

  try {
    const auto is_command = [&](const Command& c) { return c.app->get_name() == argv[1]; };
    if (argc > 1 && argv[1][0] != '-' && std::none_of(std::begin(commands), std::end(commands), is_command)) {
      throw Failure(unknown_command(app, argv[1]));
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::ExtrasError&) {
      fail_leftovers(app);
    }
    apply_colour_flag(colour);
    for (const auto& command : commands) {
      if (command.app->parsed()) {
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
    // CLI11 would exit 100-127; the contract says usage errors are 2.
    print_error(epilot::make_error(epilot::ErrorCode::usage, usage_message(e.what()),
                                   {"run 'epilot-action --help' or 'epilot-action help COMMAND'"}));
    return k_exit_usage_or_input;
  } catch (const Failure& e) {
    print_error(e.error());
    return with_output_checked(exit_status(e.error().code));
  } catch (const std::exception& e) {
    print_error(epilot::make_error(epilot::ErrorCode::io, std::string("internal error: ") + e.what(),
                                   {"please report this at the project's issue tracker"}));
    return k_exit_usage_or_input;
  }
}
