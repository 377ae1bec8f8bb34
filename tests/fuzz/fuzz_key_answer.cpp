// fetch-key's readers of what it did not write itself: the key endpoint's
// answer and a cache entry. Any bytes are refused or give an Ed25519 key;
// nothing crashes, and a message never holds a byte outside UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/epilot/key_endpoint.hpp"
#include "lib/util/bytes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  epilot::http::HttpResponse response;
  response.status = 200;
  response.body = std::string(text);
  response.content_type = "application/json";
  const auto key = epilot::parse_key_response(response, "https://example.test/key");
  if (!key && !epilot::util::is_valid_utf8(key.error().message)) {
    std::abort();
  }
  const auto entry = epilot::parse_cache_entry(text);
  if (!entry && !epilot::util::is_valid_utf8(entry.error().message)) {
    std::abort();
  }
  return 0;
}
