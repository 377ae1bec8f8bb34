// Everything a command does with an input of unknown format: detect, parse,
// verify, explain, inspect. Never crashes, never verifies a forged request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/diagnose.hpp"
#include "lib/inputs.hpp"
#include "lib/inspect.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const epilot::VerifyKeys keys = [] {
    epilot::VerifyKeys k;
    k.secrets.push_back({"s", *epilot::parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")});
    k.public_keys.push_back({"p", *epilot::parse_public_key("whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=")});
    return k;
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto requests = epilot::parse_requests(text);
  if (!requests) {
    return 0;
  }
  epilot::VerifyPolicy policy;
  policy.now = 1614265330;
  for (const auto& request : *requests) {
    const auto result = epilot::verify_request(request, keys, policy);
    if (result.ok() && !result.match) {
      std::abort();
    }
    (void)epilot::explain(request, keys, {}, policy, result);
    (void)epilot::inspect_request(request, policy.now, policy.tolerance).dump(-1, ' ', false,
                                                                                nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
