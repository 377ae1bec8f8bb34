#pragma once

// What fills a fixture's placeholders on the command line: the clock, the
// system's randomness, the environment and --option values.

#include <string>
#include <vector>

#include "lib/payload.hpp"

namespace epilot::cli {

FillContext fill_context(const std::vector<std::string>& options);

}  // namespace epilot::cli
