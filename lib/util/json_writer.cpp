#include "lib/util/json_writer.hpp"

namespace epilot::util {

namespace {

// Bytes that can be copied as they are: printable ASCII but `"` and `\`.
constexpr bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// The length of the well-formed UTF-8 sequence at the start of `s` (which
// starts with a byte >= 0x80), or, when it is not one, minus the number of
// bytes the replacement character stands for: the bytes up to the one that
// broke the sequence, which is then read again as a start of its own. The
// ranges are those of Unicode's table 3-7 (no overlongs, no surrogates,
// nothing above U+10FFFF), which is what nlohmann's decoder accepts too.
int utf8_sequence(std::string_view s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  int length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;  // the range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : 0x80;
    high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return -1;  // a continuation byte, C0, C1 or F5..FF: never a start
  }
  for (int i = 1; i < length; ++i) {
    if (static_cast<std::size_t>(i) >= s.size()) {
      return -i;  // cut short by the end of the text
    }
    const auto c = static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
    if (c < (i == 1 ? low : 0x80) || c > (i == 1 ? high : 0xBF)) {
      return -i;
    }
  }
  return length;
}

void append_escaped(std::string& out, unsigned char c) {
  static constexpr char k_hex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\r':
      out += "\\r";
      return;
    default:
      out += "\\u00";
      out += k_hex[c >> 4];
      out += k_hex[c & 0xF];
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    // Runs of plain bytes go in one append: most of any real text.
    std::size_t run = i;
    while (run < text.size() && plain(static_cast<unsigned char>(text[run]))) {
      ++run;
    }
    out.append(text.data() + i, run - i);
    i = run;
    if (i == text.size()) {
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      append_escaped(out, c);
      ++i;
      continue;
    }
    const int n = utf8_sequence(text.substr(i));
    if (n > 0) {
      out.append(text.data() + i, static_cast<std::size_t>(n));
      i += static_cast<std::size_t>(n);
    } else {
      out += "\xEF\xBF\xBD";
      i += static_cast<std::size_t>(-n);
    }
  }
  out += '"';
}

}  // namespace epilot::util
