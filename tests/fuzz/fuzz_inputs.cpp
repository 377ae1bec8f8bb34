// Everything a command does with an input of unknown format: detect, parse,
// verify, explain, inspect. Never crashes, never verifies a forged request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "lib/epilot/input_kind.hpp"
#include "lib/webhook/diagnose.hpp"
#include "lib/webhook/input_formats.hpp"
#include "lib/webhook/inspect.hpp"
#include "tests/fuzz/fixed_keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& keys = epilot::fuzz::fixed_keys();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // What a file is decides what every command does with it: it must always say.
  (void)epilot::classify_input(text, "input.json");
  (void)epilot::classify_input(text, "input.request.json");
  const auto requests = epilot::webhook::parse_requests(text);
  if (!requests) {
    return 0;
  }
  epilot::webhook::VerifyPolicy policy;
  policy.now = 1614265330;
  for (const auto& request : *requests) {
    const auto result = epilot::webhook::verify_request(request, keys, policy);
    if (result.ok() && !result.match) {
      std::abort();
    }
    (void)epilot::webhook::explain(request, keys, {}, policy, result);
    (void)epilot::webhook::inspect_request(request, policy.now, policy.tolerance)
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
