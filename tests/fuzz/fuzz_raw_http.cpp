// The raw HTTP/1.1 reader: never crashes; what it accepts, written back as a
// request, reads again to the same body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/webhook/capture.hpp"
#include "lib/webhook/raw_http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto capture = epilot::webhook::parse_raw_http(text);
  if (!capture) {
    return 0;
  }
  const auto again = epilot::webhook::parse_raw_http(epilot::webhook::write_raw_http(*capture));
  if (again && again->body != capture->body) {
    std::abort();
  }
  return 0;
}
