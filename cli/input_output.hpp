#pragma once

// Reading the files and streams commands are pointed at, and writing their output.

#include <string>
#include <vector>

#include "lib/webhook/capture.hpp"

namespace epilot::cli {

// All of `path`, or of stdin for "-". Refuses to wait on a terminal.
std::string read_input(const std::string& path, std::size_t max_size);

// Write `text` to stdout when `path` is empty or "-", else to `path`,
// atomically (a temporary file renamed over it).
void write_output(const std::string& path, std::string_view text);

// "name: value" as given to -H/--header, validated.
http::Header parse_header_flag(const std::string& text);

// verify and inspect read captures: fail, naming what `text` (read from
// `path`, shown as `name`) is instead, when it is a payload or template.
// Text no reader takes is left for the capture reader to explain.
void require_captures(const std::string& name, std::string_view text, std::string_view path);

// Warn when a payload read from stdin ("-") ends with a newline, which the
// shell's echo or a heredoc added and which is `verb` (signed, sent) with it.
void warn_stdin_newline(const std::string& path, std::string_view data, std::string_view verb);

}  // namespace epilot::cli
