#include "cli/input_output.hpp"

#include <unistd.h>

#include <cstdio>

#include "cli/output.hpp"
#include "lib/epilot/input_kind.hpp"
#include "lib/util/bytes.hpp"
#include "lib/util/file.hpp"
#include "lib/webhook/input_formats.hpp"

namespace epilot::cli {

std::string read_input(const std::string& path, std::size_t max_size) {
  if (path == "-") {
    if (::isatty(STDIN_FILENO) == 1) {
      fail(ErrorCode::usage, "refusing to read a capture from a terminal", {"pipe one in, or name a file"});
    }
    return take(util::read_fd(STDIN_FILENO, "stdin", max_size));
  }
  return take(util::read_file(path, max_size));
}

void write_output(const std::string& path, std::string_view text) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  take(write_file_atomic(path, text, 0644, util::Overwrite::yes));
}

http::Header parse_header_flag(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    fail(ErrorCode::usage, "header '" + text.substr(0, 80) + "' has no ':'", {"write headers as -H 'name: value'"});
  }
  auto name = text.substr(0, colon);
  auto value = text.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.erase(0, 1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.pop_back();
  }
  take(http::validate_header(name, value));
  return http::Header{std::move(name), std::move(value)};
}

void require_captures(const std::string& name, std::string_view text, std::string_view path) {
  const auto kind = classify_input(text, path);
  if (util::trim_whitespace(text).empty() || !kind.ok() || *kind == InputKind::captures) {
    return;
  }
  const char* what = *kind == InputKind::request_template ? "a request template"
                     : *kind == InputKind::payload_lines  ? "JSON Lines of payloads"
                                                          : "a payload";
  // in_cli_words() says what a capture is, as for the library's own refusals.
  auto error = make_error(ErrorCode::bad_input, Subject::not_a_capture, name + ": this is " + what + ", not a capture");
  error.hints.emplace_back(
      "to sign the payload: epilot-action sign FILE; to send it: epilot-action replay FILE --url URL");
  throw Failure(std::move(error));
}

void warn_stdin_newline(const std::string& path, std::string_view data, std::string_view verb) {
  if (path == "-" && !data.empty() && data.back() == '\n') {
    print_warning("the payload on stdin ends with a newline, which is " + std::string(verb) +
                  " as part of the body (echo and heredocs add one); to leave it out: printf '%s' or jq -cj");
  }
}

}  // namespace epilot::cli
