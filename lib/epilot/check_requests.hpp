#pragma once

// The requests each case of the battery sends: a genuine request, signed as
// of the moment it is built, then changed the way the case says. Nothing
// here touches the network.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/epilot/check_battery.hpp"
#include "lib/util/crypto.hpp"
#include "lib/webhook/capture.hpp"

namespace epilot {

struct CaseContext {
  webhook::Capture base;  // method, url, headers (Host first) and the genuine body, unsigned
  std::int64_t now = 0;   // unix seconds, the moment of sending
  std::int64_t tolerance = k_default_tolerance_seconds;
  util::RandomSource random;
};

struct CaseRequests {
  std::vector<webhook::Capture> requests;  // sent one after the other, in order
  std::string sent;                        // what was sent, in words ("a request signed 360 s ago")
  std::vector<std::string> each;           // when the requests differ: each one, in words
  std::string skipped;                     // set instead when the case can't be made from these inputs
};

// The requests case `id` sends, built from `context` under `keys`. A body
// with data.execution_id (an epilot custom action) gets a fresh one per
// case, so that an app that deduplicates executions sees a new one each
// time (replayed's two sends share theirs).
CaseRequests build_case(CaseId id, const CaseContext& context, const CheckKeys& keys);

// How old genuine-near-edge's timestamp is: 30 s inside the tolerance (half
// of it when that is under a minute).
std::int64_t near_edge_age(std::int64_t tolerance);

// --- Bodies ---

// `body` with a new random data.execution_id when it has one (a string),
// re-encoded compactly; otherwise `body` as it is.
std::string with_fresh_execution_id(std::string_view body, const util::RandomSource& random);

// `body` with one byte changed: a letter or digit inside the first JSON
// string value (so JSON stays JSON), else the first letter or digit, else
// the last byte; an empty body gains one.
std::string tamper_one_byte(std::string_view body);

// A JSON object's text with a member added right after its `{`, the rest
// left byte for byte; nullopt when `body` is not a JSON object.
std::optional<std::string> with_leading_member(std::string_view body, std::string_view name,
                                               std::string_view value_json);

// The same object in bytes no JSON serialiser writes by itself: pretty with
// four-space indents, non-ASCII as \u escapes, '/' as '\/', and a member
// holding "Gr\u00fc\u00dfe", 1.50 and "\/" kept as written.
std::optional<std::string> noncanonical_json(std::string_view body);

inline constexpr std::string_view k_check_member = "epilot_action_check";
inline constexpr std::size_t k_oversized_body = 12u * 1024 * 1024;

}  // namespace epilot
