// replay's and the forwarder's response reader: never crashes, and reads the
// same answer however the bytes are split across reads (the first input byte
// picks the split), keeping its fields or not; the relay of a kept answer
// never writes a field name that is empty.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/http/forwarder.hpp"
#include "lib/http/response_reader.hpp"

namespace {

struct Outcome {
  epilot::http::ResponseParser::State state;
  epilot::http::HttpResponse answer;
};

Outcome read_all(std::string_view data, std::size_t split, bool keep_headers) {
  epilot::http::ResponseParser parser(false, 16 * 1024 * 1024, keep_headers);
  auto state = parser.feed(data.substr(0, split));
  if (state == epilot::http::ResponseParser::State::need_more) {
    state = parser.feed(data.substr(split));
  }
  if (state == epilot::http::ResponseParser::State::need_more) {
    state = parser.finish();
  }
  return {state, parser.answer()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto whole = read_all(text, text.size(), false);
  const auto split = read_all(text, data[0] % (text.size() + 1), true);
  if (split.state == epilot::http::ResponseParser::State::complete) {
    epilot::http::Forwarded forwarded;
    forwarded.answer = split.answer;
    for (const auto& h : epilot::http::relayed_answer(forwarded).headers) {
      if (h.name.empty()) {
        std::abort();
      }
    }
  }
  // A complete answer must come out the same either way (an error may be
  // found at a different point, and a complete one may end earlier in one
  // piece than the other reports, so only complete-vs-complete is compared).
  if (whole.state == epilot::http::ResponseParser::State::complete &&
      split.state == epilot::http::ResponseParser::State::complete &&
      (whole.answer.status != split.answer.status || whole.answer.body != split.answer.body ||
       whole.answer.keep_alive != split.answer.keep_alive)) {
    std::abort();
  }
  if (whole.state != split.state) {
    std::abort();
  }
  return 0;
}
