// The key and secret parsers: never crash, and every accepted key round-trips
// through its own text forms.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/webhook/keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto pub = epilot::webhook::parse_public_key(text)) {
    const auto again = epilot::webhook::parse_public_key(epilot::webhook::to_pem(*pub));
    if (!again || !(*again == *pub)) {
      std::abort();
    }
  }
  if (const auto priv = epilot::webhook::parse_private_key(text)) {
    const auto again = epilot::webhook::parse_private_key(epilot::webhook::to_whsk(*priv));
    if (!again || again->seed != priv->seed) {
      std::abort();
    }
  }
  if (const auto secret = epilot::webhook::parse_secret(text)) {
    if (secret->bytes.size() < 24) {
      std::abort();
    }
  }
  return 0;
}
