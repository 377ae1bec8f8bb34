#pragma once

// What `replay` was asked to send: fixtures by name, capture files in any
// format `verify` reads, payload and template files, directories of them and
// glob patterns.

#include <string>
#include <vector>

#include "lib/epilot/fixture_catalog.hpp"
#include "lib/epilot/replay_plan.hpp"

namespace epilot::cli {

// Each argument in order: `fixture:NAME` (or `fixture:PATH`) or a fixture's
// name (when no file has that name), `-` for stdin, a file, a directory (its
// request files, sorted, hidden ones left out) or a glob pattern. A file is
// captures or a payload, as classify_input decides. No arguments: the
// custom-action fixture. Errors name the argument.
std::vector<ReplayItem> load_replay_inputs(const std::vector<std::string>& inputs, FixtureCatalog& catalog);

}  // namespace epilot::cli
