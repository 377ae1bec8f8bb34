#include "cli/output.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lib/util/bytes.hpp"

namespace epilot::cli {

namespace {

std::atomic<ColourMode> g_colour_mode{ColourMode::automatic};
// The decision for stdout and stderr, made once: verify prints a line per
// request and should not ask the terminal each time. -1: not decided yet.
std::atomic<int> g_colour_decided[3] = {-1, -1, -1};

bool decide_colour(int fd) {
  switch (g_colour_mode.load()) {
    case ColourMode::always:
      return true;
    case ColourMode::never:
      return false;
    case ColourMode::automatic:
      break;
  }
  const char* no_colour = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return (no_colour == nullptr || *no_colour == '\0') && (term == nullptr || std::strcmp(term, "dumb") != 0) &&
         ::isatty(fd) == 1;
}

std::string_view escape_for(Tone tone) {
  switch (tone) {
    case Tone::good:
      return "\x1b[32m";
    case Tone::bad:
      return "\x1b[1;31m";
    case Tone::warn:
      return "\x1b[33m";
    case Tone::note:
      return "\x1b[36m";
  }
  return "";
}

void print_line(std::string_view kind, std::string_view colour, std::string_view message) {
  const bool coloured = use_colour(STDERR_FILENO);
  std::string line = "epilot-action: ";
  if (coloured) {
    line.append(colour).append(kind).append("\x1b[0m");
  } else {
    line.append(kind);
  }
  line.append(": ").append(terminal_text(message)).append("\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

std::string terminal_text(std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  const auto escape = [&](unsigned char c) {
    out += "\\x";
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
  };
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) {
        escape(c);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    const auto sequence = text.substr(i, length);
    // C1 controls (U+0080..U+009F) act on terminals too.
    const bool c1 = c == 0xc2 && sequence.size() == 2 && static_cast<unsigned char>(sequence[1]) < 0xa0;
    if (length > 1 && sequence.size() == length && util::is_valid_utf8(sequence) && !c1) {
      out += sequence;
      i += length;
    } else {
      escape(c);
      ++i;
    }
  }
  return out;
}

void set_colour_mode(ColourMode mode) {
  g_colour_mode = mode;
  for (auto& decided : g_colour_decided) {
    decided = -1;
  }
}

bool use_colour(int fd) {
  if (fd < 1 || fd > 2) {
    return decide_colour(fd);
  }
  int decided = g_colour_decided[fd].load();
  if (decided < 0) {
    decided = decide_colour(fd) ? 1 : 0;
    g_colour_decided[fd] = decided;
  }
  return decided == 1;
}

std::string toned(std::string_view label, Tone tone, int fd, std::size_t width) {
  std::string out;
  if (use_colour(fd)) {
    out.append(escape_for(tone)).append(label).append("\x1b[0m");
  } else {
    out.append(label);
  }
  if (label.size() < width) {
    out.append(width - label.size(), ' ');
  }
  return out;
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
