#include "cli/output.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace epilot::cli {

namespace {

void print_line(std::string_view kind, std::string_view colour, std::string_view message) {
  const bool coloured = use_colour(STDERR_FILENO);
  std::string line = "epilot-action: ";
  if (coloured) {
    line.append(colour).append(kind).append("\x1b[0m");
  } else {
    line.append(kind);
  }
  line.append(": ").append(message).append("\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

bool use_colour(int fd) {
  const char* no_colour = std::getenv("NO_COLOR");
  return (no_colour == nullptr || *no_colour == '\0') && ::isatty(fd) == 1;
}

void print_error(const Error& error) {
  print_line("error", "\x1b[1;31m", error.message);
  for (const auto& hint : error.hints) {
    print_hint(hint);
  }
}

void print_warning(std::string_view message) { print_line("warning", "\x1b[1;33m", message); }

void print_hint(std::string_view message) { print_line("hint", "\x1b[1;36m", message); }

}  // namespace epilot::cli
