// The JSON capture reader: never crashes, and what it accepts survives a
// write and a second read unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/webhook/capture.hpp"
#include "lib/webhook/capture_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto capture = epilot::webhook::parse_capture_json(text);
  if (!capture) {
    return 0;
  }
  const auto again = epilot::webhook::parse_capture_json(
      epilot::webhook::write_capture_json(*capture, epilot::webhook::JsonStyle::compact));
  if (!again || again->body != capture->body || again->method != capture->method ||
      again->headers.size() != capture->headers.size()) {
    std::abort();
  }
  return 0;
}
