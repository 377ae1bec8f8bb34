#pragma once

// Every subcommand registers itself on the top-level app and hands back how
// to run it once parsing is done (parse-then-dispatch: no work in callbacks,
// so there is exactly one error path).

#include <CLI/CLI.hpp>

#include <functional>

#include "cli/output.hpp"

namespace epilot::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<Outcome()> run;
};

Command register_keygen(CLI::App& app);
Command register_sign(CLI::App& app);
Command register_verify(CLI::App& app);
Command register_inspect(CLI::App& app);
Command register_fetch_key(CLI::App& app);
Command register_listen(CLI::App& app);
Command register_fixtures(CLI::App& app);
Command register_replay(CLI::App& app);
Command register_check(CLI::App& app);
Command register_help(CLI::App& app);
Command register_version(CLI::App& app);
Command register_completion(CLI::App& app);

}  // namespace epilot::cli
