// Payloads and templates from the user's files: the placeholder scanner,
// the request form and the Content-Type choice. A text without a placeholder
// must come out of filling byte for byte: that is what "a payload is sent as
// it is" rests on. The first byte picks the form (odd: NAME.request.json).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "lib/epilot/templates.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const bool request_form = (data[0] & 1) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  epilot::FillContext context;
  context.now_ms = 1614265330000;
  context.random = [](std::uint8_t* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = static_cast<std::uint8_t>(i);
    }
  };
  context.env = [](const std::string& name) -> std::optional<std::string> {
    return name == "SET" ? std::optional<std::string>("va\"lue\n") : std::nullopt;
  };
  context.options["org_id"] = "\xff\x01";
  const bool templated = epilot::has_placeholders(text);
  const auto filled = epilot::fill_placeholders(text, context);
  if (!templated && (!filled.ok() || *filled != text)) {
    std::abort();  // a payload without placeholders was changed
  }
  (void)epilot::unknown_placeholders(text);
  (void)epilot::content_type_for(text);
  const epilot::Fixture fixture{request_form ? "fuzz.request" : "fuzz", text, "fuzz.json"};
  (void)epilot::instantiate_fixture(fixture, context, {{"data.org_id", "1"}});
  return 0;
}
