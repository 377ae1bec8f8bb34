// The webhook-signature parser and verification under fixed keys, with the
// fuzzer choosing the header: nothing it writes may verify unless it carries a
// genuine signature (TV-H1 or TV-E1) of the fixed request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/webhook/signature.hpp"
#include "tests/fuzz/fixed_keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& keys = epilot::fuzz::fixed_keys();
  const std::string header(reinterpret_cast<const char*>(data), size);
  (void)epilot::webhook::parse_signature_header(header);
  epilot::webhook::Capture request;
  request.body = R"({"test": 2432232314})";
  request.headers = {{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                     {"webhook-timestamp", "1614265330"},
                     {"webhook-signature", header}};
  epilot::webhook::VerifyPolicy policy;
  policy.now = 1614265330;
  const auto result = epilot::webhook::verify_request(request, keys, policy);
  if (result.ok()) {
    const bool genuine =
        header.find("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") != std::string::npos ||
        header.find("hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==") !=
            std::string::npos;
    if (!genuine) {
      std::abort();
    }
  }
  return 0;
}
