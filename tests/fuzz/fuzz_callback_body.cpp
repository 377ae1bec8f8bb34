// Both ends of the callback flow: replay's resume endpoint (any method,
// target and body gets an answer, 200, 400 or 404, never a crash; only
// {"resume_token": issued} is 200) and listen's reading of the callback a
// request body asks for (resume_call_of).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lib/epilot/resume_call.hpp"
#include "lib/epilot/resume_endpoint.hpp"
#include "lib/util/constants.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  epilot::CallbackBoard board;
  board.issued(1, "rt_0123456789abcdef0123456789abcdef");
  board.answered(1, true);
  epilot::http::wire::Request request;
  // First line: "METHOD TARGET"; the rest is the body.
  const auto eol = text.find('\n');
  const auto line = text.substr(0, eol);
  const auto space = line.find(' ');
  request.method = std::string(line.substr(0, space));
  request.target =
      space == std::string_view::npos ? std::string(epilot::k_callback_path) : std::string(line.substr(space + 1));
  request.body = eol == std::string_view::npos ? std::string() : std::string(text.substr(eol + 1));
  if (const auto call = epilot::resume_call_of(request.body); call && call->token.empty()) {
    std::abort();  // a call is only ever made with a token
  }
  const auto answer = board.receive(request);
  if (answer.status != 200 && answer.status != 400 && answer.status != 404) {
    std::abort();
  }
  return 0;
}
