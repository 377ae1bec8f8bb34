#include "lib/util/base64.hpp"

#include <array>

namespace epilot::util {

namespace {

constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& v : table) {
    v = -1;
  }
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(k_alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}

constexpr auto k_table = make_table();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out.push_back(k_alphabet[(v >> 18) & 63]);
    out.push_back(k_alphabet[(v >> 12) & 63]);
    out.push_back(k_alphabet[(v >> 6) & 63]);
    out.push_back(k_alphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = p[i] << 16;
    out.push_back(k_alphabet[(v >> 18) & 63]);
    out.push_back(k_alphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    const std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out.push_back(k_alphabet[(v >> 18) & 63]);
    out.push_back(k_alphabet[(v >> 12) & 63]);
    out.push_back(k_alphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::string base64_encode(const Bytes& bytes) { return base64_encode(as_chars(bytes)); }

std::string base64_problem(std::string_view text) {
  if (text.size() % 4 != 0) {
    return "length " + std::to_string(text.size()) + " is not a multiple of 4 (missing '=' padding?)";
  }
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') {
    ++padding;
  }
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (k_table[c] < 0) {
      if (c == '-' || c == '_') {
        return "contains '" + std::string(1, static_cast<char>(c)) +
               "' (URL-safe base64; the standard alphabet uses '+' and '/')";
      }
      if (c == '=') {
        return "has '=' before the end";
      }
      if (c < 0x20 || c >= 0x7f) {
        return "contains a non-printable byte at offset " + std::to_string(i);
      }
      return "contains '" + std::string(1, static_cast<char>(c)) + "' at offset " + std::to_string(i);
    }
  }
  // Canonical form: the bits dropped by the padding must be zero.
  if (padding > 0) {
    const auto last = k_table[static_cast<unsigned char>(text[text.size() - padding - 1])];
    const int mask = padding == 1 ? 0x03 : 0x0f;
    if ((last & mask) != 0) {
      return "is not canonical (non-zero bits before the padding)";
    }
  }
  return "";
}

std::optional<Bytes> base64_decode(std::string_view text) {
  if (!base64_problem(text).empty()) {
    return std::nullopt;
  }
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    if (ch == '=') {
      break;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(k_table[static_cast<unsigned char>(ch)]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::optional<Bytes> base64url_decode(std::string_view text) {
  if (text.find_first_of("+/=") != std::string_view::npos || text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string standard(text);
  for (auto& c : standard) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  standard.append((4 - standard.size() % 4) % 4, '=');
  return base64_decode(standard);
}

std::string base64url_encode(std::string_view bytes) {
  auto text = base64_encode(bytes);
  while (!text.empty() && text.back() == '=') {
    text.pop_back();
  }
  for (auto& c : text) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return text;
}

}  // namespace epilot::util
