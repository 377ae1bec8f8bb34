// The JWT decoder: never crashes; what it decodes has object parts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/webhook/jwt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto jwt = epilot::webhook::decode_jwt(text);
  if (jwt && (!jwt->header.is_object() || !jwt->claims.is_object())) {
    std::abort();
  }
  return 0;
}
