#pragma once

// What `replay` was asked to send: built-in fixtures by name, capture files
// in any format `verify` reads, directories of them and glob patterns.

#include <string>
#include <vector>

#include "lib/replay_request.hpp"

namespace epilot::cli {

// Each argument in order: `fixture:NAME` or a fixture's name (when no file
// has that name), `-` for stdin, a file, a directory (its files, sorted,
// hidden ones left out) or a glob pattern. No arguments: the built-in
// custom-action fixture. Errors name the argument.
std::vector<ReplayItem> load_replay_inputs(const std::vector<std::string>& inputs);

}  // namespace epilot::cli
