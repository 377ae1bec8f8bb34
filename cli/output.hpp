#pragma once

// How the command line talks to people. Rules, after age's tui.go:
// - data goes to stdout; everything else to stderr;
// - diagnostics read `epilot-action: error: <lowercase, no period>`, then
//   optional `epilot-action: hint: ...` lines; warnings use `warning:`;
// - colour only where --color says so: by default, on a terminal with
//   NO_COLOR unset and TERM not "dumb";
// - no secret or private key is ever part of a message.

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "lib/util/error.hpp"

namespace epilot::cli {

// What a command that prints text or JSON prints (--format text|json).
enum class OutputFormat { text, json };

// Thrown by commands for anything that is not a check result; caught once, in main.
class Failure : public std::runtime_error {
 public:
  explicit Failure(Error error) : std::runtime_error(error.message), m_error(std::move(error)) {}
  const Error& error() const { return m_error; }

 private:
  Error m_error;
};

// Unwrap `result` or throw its error as a Failure.
template <typename T>
T take(Result<T> result) {
  if (!result.ok()) {
    throw Failure(result.error());
  }
  return std::move(result).value();
}

[[noreturn]] inline void fail(ErrorCode code, std::string message, std::vector<std::string> hints = {}) {
  throw Failure(make_error(code, std::move(message), std::move(hints)));
}

void print_error(const Error& error);
void print_warning(std::string_view message);
void print_hint(std::string_view message);

// `text` as it may be shown on a terminal: valid UTF-8 is kept, but control
// bytes (which could move the cursor, clear the screen or hide a line) and
// bytes that are not UTF-8 are written as \xNN. Everything that came from a
// request, a file or an endpoint goes through this in text output.
std::string terminal_text(std::string_view text);

// --color: auto (the default), always or never. Set once, before any output.
enum class ColourMode { automatic, always, never };
void set_colour_mode(ColourMode mode);

// Whether what goes to `fd` is coloured: --color always; or auto, and `fd`
// is a terminal, NO_COLOR is unset or empty and TERM is not "dumb".
bool use_colour(int fd);

// What a result label says, for its colour.
enum class Tone { good, bad, warn, note };

// `label` coloured for `fd` (nothing added when colour is off), then padded
// with spaces to `width` columns, so that coloured columns still line up.
std::string toned(std::string_view label, Tone tone, int fd, std::size_t width = 0);

// What a command returns when it ran to the end: success, or a check that failed.
enum class Outcome { success = 0, check_failed = 1 };

}  // namespace epilot::cli
