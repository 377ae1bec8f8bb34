// `--set PATH=VALUE` and `PATH:=JSON` on a body: any assignment on any body
// is applied or refused with an error; what is applied is JSON that parses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cli/flag_values.hpp"
#include "lib/epilot/templates.hpp"
#include "lib/util/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // First line: the assignment as typed; the rest: the body.
  const auto eol = text.find('\n');
  const auto assignment = epilot::cli::parse_assignment(text.substr(0, eol), "--set");
  if (!assignment) {
    return 0;
  }
  const auto body = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
  const auto out = epilot::apply_overrides(body, {*assignment});
  if (out && !epilot::util::parse_json(*out)) {
    std::abort();
  }
  return 0;
}
