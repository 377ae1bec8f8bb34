#pragma once

// Byte buffers and the small conversions everybody needs.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace epilot::util {

using Bytes = std::vector<std::uint8_t>;

inline std::string_view as_chars(const Bytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

inline Bytes to_bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

// Lowercase hex of `bytes`.
std::string to_hex(const Bytes& bytes);

// True if `text` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view text);
// `text` with every byte that starts no well-formed character replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

// ASCII-only case folding; header names are ASCII by definition.
std::string to_lower_ascii(std::string_view text);
bool iequals_ascii(std::string_view a, std::string_view b);

// `text` without spaces, tabs, CRs and LFs at either end.
std::string_view trim_whitespace(std::string_view text);
// `text` without HTTP's optional whitespace (spaces and tabs) at either end.
std::string_view trim_ows(std::string_view text);

}  // namespace epilot::util
