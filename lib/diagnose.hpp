#pragma once

// Why a request did not verify, in words: a list of reasons with stable codes,
// most likely first. The first reason always restates the verdict.

#include <string>
#include <vector>

#include "lib/capture.hpp"
#include "lib/signature.hpp"

namespace epilot {

struct Reason {
  std::string code;     // stable, snake_case: scripts may match on it
  std::string message;  // one sentence for people
};

std::vector<Reason> explain(const Capture& request, const VerifyKeys& keys,
                            const VerifyPolicy& policy, const Verification& result);

}  // namespace epilot
