// epilot-action: sign, verify and inspect epilot custom-action requests.
// This file builds the command line, dispatches, and maps every error to an
// exit status, all in one place (see EXIT STATUS in man/epilot-action.1).

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

#include "cli/commands.hpp"
#include "cli/output.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  using namespace epilot::cli;
  // Past a file-size limit, a write fails with EFBIG and is reported;
  // the default action would kill the process with nothing said.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"epilot-action: sign, verify and inspect epilot custom-action requests"};
  app.name("epilot-action");
  app.set_version_flag("--version", "epilot-action " EPILOT_VERSION);
  app.require_subcommand(1);
  app.footer("Run 'epilot-action COMMAND --help' for a command's options, or 'man epilot-action'.");

  const Command commands[] = {register_keygen(app), register_sign(app), register_verify(app),
                              register_inspect(app), register_fetch_key(app), register_listen(app),
                              register_replay(app), register_check(app), register_fixtures(app),
                              register_completion(app)};

  try {
    const auto is_command = [&](const Command& c) { return c.app->get_name() == argv[1]; };
    if (argc > 1 && argv[1][0] != '-' && std::none_of(std::begin(commands), std::end(commands), is_command)) {
      throw Failure(epilot::make_error(epilot::ErrorCode::usage,
                                       std::string("unknown command '") + argv[1] + "'",
                                       {"the commands are: keygen, sign, verify, inspect, replay, check, fetch-key, listen, fixtures"}));
    }
    app.parse(argc, argv);
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
    std::string message = e.what();
    if (!message.empty()) {
      message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
    }
    print_error(epilot::make_error(epilot::ErrorCode::usage, message,
                                   {"run 'epilot-action --help' or 'epilot-action COMMAND --help'"}));
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
