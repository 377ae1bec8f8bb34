#pragma once

// Running the battery: genuine first, then every case that runs, each built
// as it is sent and judged as its last answer comes in. The network is a
// parameter (CaseSender); the real one is lib/http/load_client.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/epilot/check_battery.hpp"
#include "lib/epilot/check_requests.hpp"
#include "lib/http/load_client.hpp"

namespace epilot {

// The network, as a parameter: sends `count` requests one after another,
// asking `build` for each one's bytes just before it goes, and hands every
// answer (or failure) to `done`, in order. Once `stop` is set (by `done`),
// nothing more is sent. Fails only when nothing can be sent.
class CaseSender {
 public:
  virtual ~CaseSender() = default;
  virtual Status send(std::uint64_t count, const std::function<void(std::uint64_t, http::OutgoingRequest&)>& build,
                      const std::function<void(http::Delivered&)>& done, const std::atomic<bool>& stop) = 0;
};

// The real sender: lib/http/load_client with one connection. The first send (the
// genuine request) keeps trying to connect for `wait` while the endpoint
// starts (at least the plan's retries); later ones never retry: a closed
// connection is an answer the battery judges.
std::unique_ptr<CaseSender> make_load_sender(http::LoadPlan plan, std::chrono::milliseconds wait);

// What was sent, for reports (the bodies can be 12 MB: only their size).
struct SentRequest {
  std::string method;
  std::vector<http::Header> headers;
  std::size_t body_bytes = 0;
  std::string what;  // in words
};

struct CaseResult {
  const CaseInfo* info = nullptr;
  std::string sent;  // in words
  std::vector<SentRequest> requests;
  std::vector<CaseAnswer> answers;
  Judgement judgement;
  std::chrono::nanoseconds latency{0};  // all its requests together
};

struct BatteryRun {
  // Per case of check_battery(), in its order: why it is left out (empty:
  // it runs). genuine always runs.
  std::vector<std::string> left_out;
  CheckKeys keys;
  // The base request (unsigned, its body filled afresh) and the clock, at
  // the moment a case is built.
  std::function<CaseContext()> context;
  const DuplicateAnswer* duplicate = nullptr;
  std::function<void(const CaseResult&)> on_case;  // each case as it is judged, in order
};

// Send `genuine`; if the endpoint accepts it, every other case that runs,
// in battery order; otherwise the rest are inconclusive, as are the cases
// after the endpoint stopped taking connections (they are not sent). One
// result per case of the battery, in order. An error only when nothing
// could be sent.
Result<std::vector<CaseResult>> run_battery(const BatteryRun& run, CaseSender& sender);

}  // namespace epilot
