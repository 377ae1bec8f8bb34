#pragma once

// Usage errors that say what was probably meant: an unknown command, or a
// flag the command does not have, gets the closest names as a hint.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "lib/util/error.hpp"

namespace epilot::cli {

// `name` is no command of `app`'s.
Error unknown_command(const CLI::App& app, const std::string& name);

// What parsing left over: flags `command` does not have (with the closest
// ones it does), or arguments it takes no more of.
Error unexpected_arguments(const CLI::App& command, const std::vector<std::string>& leftovers);

// A CLI11 message as ours: lowercase first letter, "--port: must be ..." as
// "--port must be ...".
std::string usage_message(std::string message);

}  // namespace epilot::cli
