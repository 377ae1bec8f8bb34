#pragma once

// The library says what went wrong in its own terms (Error::about); this
// puts it in the command line's: the flags and variables to name.

#include "lib/util/error.hpp"

namespace epilot::cli {

// `error` as the user reads it: the flag's name where the message names the
// input, and first the hint that names the flag or variable to use.
Error in_cli_words(Error error);

}  // namespace epilot::cli
