#pragma once

// The payloads compiled into the binary, so `sign` works with no files at all.

#include <string_view>

namespace epilot {

// The name of the default payload and its exact bytes: an epilot
// `external_integration` custom-action request (fixtures/payloads/custom-action.json),
// compact as epilot's JSON.stringify sends it.
inline constexpr std::string_view k_builtin_payload_name = "custom-action";
std::string_view builtin_payload();

}  // namespace epilot
