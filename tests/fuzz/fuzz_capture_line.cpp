// Differential: whatever the fast JSON Lines reader accepts, the full reader
// accepts too, with the same result.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/webhook/capture_json.hpp"
#include "lib/webhook/input_formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto fast = epilot::webhook::parse_capture_fast(text);
  if (!fast) {
    return 0;
  }
  const auto full = epilot::webhook::parse_capture_json(text);
  if (!full || full->method != fast->method || full->url != fast->url || full->body != fast->body ||
      full->body_parsed != fast->body_parsed || full->body_base64_event != fast->body_base64_event ||
      full->headers.size() != fast->headers.size()) {
    std::abort();
  }
  for (std::size_t i = 0; i < fast->headers.size(); ++i) {
    if (full->headers[i].name != fast->headers[i].name || full->headers[i].value != fast->headers[i].value) {
      std::abort();
    }
  }
  return 0;
}
