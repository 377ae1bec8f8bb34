// replay's judgement of an endpoint's answer: any status and body (deep
// nesting, invalid UTF-8, huge numbers) is classified without a crash, and
// the reason shown is always valid UTF-8 of bounded length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/epilot/replay_verdicts.hpp"
#include "lib/util/bytes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  epilot::http::Delivered delivered;
  delivered.delivery = epilot::http::Delivery::answered;
  delivered.answer.status = 100 + (data[0] << 8 | data[1]) % 500;
  delivered.answer.body.assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto classified = epilot::classify(delivered);
  if (classified.reason.size() > 4096) {
    std::abort();
  }
  return 0;
}
