// The HAR reader: never crashes, never returns an empty list.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/webhook/har.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto captures = epilot::webhook::parse_har(text);
  if (captures && captures->empty()) {
    std::abort();
  }
  return 0;
}
