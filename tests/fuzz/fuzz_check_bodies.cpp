// check's body rewrites over a user's payload (any bytes: a payload file is
// sent as it is): one byte changed, a member added in front, a pretty
// re-encoding. Each must keep its promise, and every case must build.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "lib/epilot/check_requests.hpp"
#include "lib/util/json.hpp"

namespace {

void expect(bool condition) {
  if (!condition) {
    std::abort();
  }
}

epilot::util::RandomSource fixed_random() {
  return [](std::uint8_t* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = static_cast<std::uint8_t>(i * 7);
    }
  };
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  const auto tampered = epilot::tamper_one_byte(body);
  if (body.empty()) {
    expect(tampered == " ");
  } else {
    expect(tampered.size() == body.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
      differ += tampered[i] != body[i] ? 1 : 0;
    }
    expect(differ == 1);
  }

  if (const auto led = epilot::with_leading_member(body, "m", "[1]")) {
    const auto doc = epilot::util::parse_json_or_discarded(*led);
    expect(doc.is_object() && doc.contains("m"));
    expect(led->size() == body.size() + 8 || led->size() == body.size() + 7);
  }

  if (const auto pretty = epilot::noncanonical_json(body)) {
    auto doc = epilot::util::parse_json_or_discarded(*pretty);
    expect(doc.is_object() && doc.contains(std::string(epilot::k_check_member)));
    doc.erase(std::string(epilot::k_check_member));
    const auto original = epilot::util::parse_json_or_discarded(body);
    expect(doc == original);
  }

  epilot::CaseContext context;
  context.base.method = "POST";
  context.base.url = "http://127.0.0.1:3000/hook";
  context.base.body = std::string(body);
  context.now = 1750000000;
  context.random = fixed_random();
  epilot::CheckKeys keys;
  keys.private_key = epilot::webhook::private_key_from_seed(epilot::util::Ed25519Seed{});
  keys.secret = epilot::webhook::Secret{epilot::util::Bytes(32, 1), ""};
  for (const auto& info : epilot::check_battery()) {
    if (info.id == epilot::CaseId::oversized) {
      continue;  // 12 MB per input would only slow the search down
    }
    const auto built = epilot::build_case(info.id, context, keys);
    expect(built.skipped.empty() == (built.requests.size() == epilot::request_count(info.id)));
  }
  return 0;
}
