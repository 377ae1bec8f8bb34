#pragma once

// The error for an endpoint nothing could be delivered to (replay, check):
// exit 3, with the hint that fits how it failed.

#include <string>

#include "lib/http/load_client.hpp"

namespace epilot::cli {

// `url` as shown; `delivered` the first request that could not be delivered.
[[noreturn]] void fail_unreachable(const std::string& url, const http::Delivered& delivered);

}  // namespace epilot::cli
