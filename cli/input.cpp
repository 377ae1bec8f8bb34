#include "cli/input.hpp"

#include <unistd.h>

#include <cstdio>

#include "cli/output.hpp"
#include "lib/file.hpp"

namespace epilot::cli {

std::string read_input(const std::string& path, std::size_t max_size) {
  if (path == "-") {
    if (::isatty(STDIN_FILENO) == 1) {
      fail(ErrorCode::usage, "refusing to read a capture from a terminal",
           {"pipe one in, or name a file"});
    }
    return take(read_fd(STDIN_FILENO, "stdin", max_size));
  }
  return take(read_file(path, max_size));
}

void write_output(const std::string& path, std::string_view text) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  take(write_file_atomic(path, text, 0644, Overwrite::yes));
}

Header parse_header_flag(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    fail(ErrorCode::usage, "header '" + text.substr(0, 80) + "' has no ':'",
         {"write headers as -H 'name: value'"});
  }
  auto name = text.substr(0, colon);
  auto value = text.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.erase(0, 1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.pop_back();
  }
  take(validate_header(name, value));
  return Header{std::move(name), std::move(value)};
}

}  // namespace epilot::cli
