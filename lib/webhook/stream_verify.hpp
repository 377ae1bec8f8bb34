#pragma once

// Verifying a stream of JSON Lines captures on every core, in constant memory,
// with results delivered in input order.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/util/error.hpp"
#include "lib/webhook/diagnose.hpp"
#include "lib/webhook/signature.hpp"

namespace epilot::webhook {

struct RecordResult {
  std::size_t index = 0;       // 0-based, counting records (non-blank lines)
  std::size_t line = 0;        // 1-based line number in the input
  std::size_t entry = 0;       // 1-based entry number in a HAR archive, 0 otherwise
  std::optional<Error> error;  // set when the record could not be read
  Verification verification;
  std::vector<Reason> reasons;  // empty when valid
  // The request's method and URL, kept only when it did not verify (a report
  // names the failed record; copying them for every record would cost).
  std::string method;
  std::string url;
};

struct StreamOptions {
  unsigned threads = 1;              // worker threads; the calling thread reads and delivers
  std::size_t block_size = 1 << 20;  // bytes read at a time; workers take whole-line blocks
};

// Read JSON Lines from `fd` (after `prefix`, bytes the caller already read
// from it), verify each record under `keys` and call `sink` with every result
// in input order, on the calling thread. Blank lines are skipped. A record
// that cannot be read gives a result with `error` set and the stream goes on.
// Memory stays bounded (at most 16 blocks in flight) whatever the input size;
// a line longer than k_max_input_size is an error for the whole stream.
Status verify_stream(int fd, std::string_view prefix, const VerifyKeys& keys, const VerifyKeys& other_keys,
                     const VerifyPolicy& policy, const StreamOptions& options,
                     const std::function<void(const RecordResult&)>& sink);

// Verify one request and explain a failure: what each record of a stream gets.
RecordResult verify_one(const Capture& request, const VerifyKeys& keys, const VerifyKeys& other_keys,
                        const VerifyPolicy& policy);

}  // namespace epilot::webhook
